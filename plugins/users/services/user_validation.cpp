#include "services/user_validation.h"

#include <algorithm>
#include <optional>
#include <vector>

#include <Poco/UTF8String.h>

#include "svc/errors.h"

namespace users {

namespace {

constexpr std::string_view kAsciiSpace = " \t\n\v\f\r";

bool isSpaceOrControl(unsigned char c) { return c <= ' ' || c == 0x7f; }

// Labels separated by dots, none of them empty: "example.com", not "com", ".com" or "a..com".
bool isDomainWithDot(std::string_view domain) {
  if (domain.find('.') == std::string_view::npos) return false;
  return domain.front() != '.' && domain.back() != '.' && domain.find("..") == std::string_view::npos;
}

/// Why `email` is not a plausible address ("email ..."), or nothing.
std::optional<std::string> emailProblem(std::string_view email) {
  if (email.empty()) return "email must not be empty";
  const std::size_t length = characterCount(email);
  if (length > kMaxEmailLength) {
    return "email must be at most " + std::to_string(kMaxEmailLength) + " characters, not " + std::to_string(length);
  }
  if (std::any_of(email.begin(), email.end(), [](char c) { return isSpaceOrControl(static_cast<unsigned char>(c)); })) {
    return "email must not contain spaces or control characters";
  }
  const std::size_t at = email.find('@');
  if (at == std::string_view::npos || email.find('@', at + 1) != std::string_view::npos) {
    return "email must contain exactly one '@'";
  }
  if (at == 0) return "email must have a local part before '@'";
  if (!isDomainWithDot(email.substr(at + 1))) return "email must have a domain with a dot after '@', e.g. example.com";
  return std::nullopt;
}

std::string_view trimmed(std::string_view text) {
  const std::size_t first = text.find_first_not_of(kAsciiSpace);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(kAsciiSpace) - first + 1);
}

/// Why the trimmed `name` is not acceptable ("name ..."), or nothing.
std::optional<std::string> nameProblem(std::string_view name) {
  if (name.empty()) return "name must not be empty or only spaces";
  const std::size_t length = characterCount(name);
  if (length > kMaxNameLength) {
    return "name must be at most " + std::to_string(kMaxNameLength) + " characters, not " + std::to_string(length);
  }
  return std::nullopt;
}

/// Collects the errors of one answer in the order of the fields: the body's own first, then each
/// field's, read (missing, not a string) or broken rule.
class FieldErrors {
 public:
  explicit FieldErrors(const std::vector<svc::FieldError>& unreadable) : unreadable_(unreadable) { take(""); }

  /// Checks a field that could be read; one that could not gets its reading error instead.
  template <class Check>
  void field(std::string_view name, const std::optional<std::string>& value, Check check) {
    const std::string pointer = "/" + std::string(name);
    if (!value) return take(pointer);
    if (std::optional<std::string> problem = check(*value)) errors_.push_back({pointer, std::move(*problem)});
  }

  void throwIfAny() const {
    if (!errors_.empty()) throw svc::Invalid("The user is invalid", errors_);
  }

 private:
  void take(const std::string& pointer) {
    for (const svc::FieldError& error : unreadable_) {
      if (error.pointer == pointer) errors_.push_back(error);
    }
  }

  const std::vector<svc::FieldError>& unreadable_;
  std::vector<svc::FieldError> errors_;
};

}  // namespace

std::size_t characterCount(std::string_view text) {
  return static_cast<std::size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::string lowerCaseEmail(const std::string& email) { return Poco::UTF8::toLower(email); }

NewUser validateNewUser(const UserDraft& draft) {
  FieldErrors errors(draft.unreadable);
  errors.field("email", draft.email, [](const std::string& email) { return emailProblem(email); });
  errors.field("name", draft.name, [](const std::string& name) { return nameProblem(trimmed(name)); });
  errors.throwIfAny();
  return NewUser{.email = *draft.email, .emailLower = lowerCaseEmail(*draft.email), .name = std::string(trimmed(*draft.name))};
}

}  // namespace users
