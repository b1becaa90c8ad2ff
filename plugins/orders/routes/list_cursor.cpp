#include "routes/list_cursor.h"

#include <charconv>
#include <sstream>

#include <Poco/Base64Decoder.h>
#include <Poco/Base64Encoder.h>
#include <Poco/Exception.h>

namespace orders {

namespace {

constexpr std::string_view kPrefix = "before:";
constexpr int kBase64Url = Poco::BASE64_URL_ENCODING | Poco::BASE64_NO_PADDING;

std::optional<std::string> base64UrlDecode(std::string_view text) {
  if (text.empty() || text.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") !=
                          std::string_view::npos) {
    return std::nullopt;
  }
  std::istringstream in{std::string(text)};
  Poco::Base64Decoder decoder(in, kBase64Url);
  std::string decoded;
  try {
    decoded.assign(std::istreambuf_iterator<char>(decoder), std::istreambuf_iterator<char>());
  } catch (const Poco::Exception&) {
    return std::nullopt;
  }
  return decoded;
}

}  // namespace

std::string encodeListCursor(std::int64_t beforeId) {
  std::ostringstream out;
  {
    Poco::Base64Encoder encoder(out, kBase64Url);
    encoder << kPrefix << beforeId;
  }  // the encoder writes its last characters when it closes
  return out.str();
}

std::optional<std::int64_t> decodeListCursor(std::string_view cursor) {
  const std::optional<std::string> decoded = base64UrlDecode(cursor);
  if (!decoded || !decoded->starts_with(kPrefix)) return std::nullopt;
  const std::string_view digits = std::string_view(*decoded).substr(kPrefix.size());
  std::int64_t id = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
  const bool canonical = !digits.empty() && digits[0] != '0' && digits.find_first_not_of("0123456789") == std::string_view::npos;
  if (!canonical || error != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  // Re-encoding must give the same text: a cursor is refused if any character was changed.
  if (encodeListCursor(id) != cursor) return std::nullopt;
  return id;
}

}  // namespace orders
