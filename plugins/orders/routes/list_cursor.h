#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace orders {

/// The opaque `cursor` of GET /orders: base64url (no padding) of the id the next page starts below.
std::string encodeListCursor(std::int64_t beforeId);

/// The id a cursor made by encodeListCursor stands for, or nothing for any other text.
std::optional<std::int64_t> decodeListCursor(std::string_view cursor);

}  // namespace orders
