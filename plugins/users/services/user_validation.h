#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "models/user.h"

namespace users {

/// The longest email (RFC 5321's path limit less its angle brackets) and name, in characters.
inline constexpr std::size_t kMaxEmailLength = 254;
inline constexpr std::size_t kMaxNameLength = 200;

/// The user `draft` asks for when its email is plausible (one '@', a non-empty part before it, a
/// domain with a dot after it, no spaces, at most kMaxEmailLength characters) and its name, trimmed,
/// is 1 to kMaxNameLength characters; otherwise svc::Invalid naming every invalid field, in the
/// order of the fields.
NewUser validateNewUser(const UserDraft& draft);

/// What makes two emails the same address: the email in lower case (every letter, not only ASCII).
std::string lowerCaseEmail(const std::string& email);

/// Characters (Unicode code points) of valid UTF-8 text.
std::size_t characterCount(std::string_view text);

}  // namespace users
