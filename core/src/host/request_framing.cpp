#include "request_framing.h"

#include <algorithm>
#include <charconv>
#include <istream>
#include <streambuf>

#include <Poco/Exception.h>
#include <Poco/Net/NetException.h>
#include <Poco/String.h>

#include "svc/http.h"

namespace svc::host {

namespace {

bool isBlank(char c) { return c == '\r' || c == '\n' || c == ' ' || c == '\t'; }

std::size_t blankPrefix(std::string_view input) {
  std::size_t at = 0;
  while (at < input.size() && isBlank(input[at])) ++at;
  return at;
}

// Where the head starting at `from` ends (after its empty line), or npos while it is incomplete.
// Like POCO's parser, a bare LF ends a line as well as CRLF does.
std::size_t headEnd(std::string_view input, std::size_t from) {
  for (std::size_t at = input.find('\n', from); at != std::string_view::npos; at = input.find('\n', at + 1)) {
    if (at + 1 < input.size() && input[at + 1] == '\n') return at + 2;
    if (at + 2 < input.size() && input[at + 1] == '\r' && input[at + 2] == '\n') return at + 3;
  }
  return std::string_view::npos;
}

// A stream over bytes it does not own, made once per thread and pointed at each request's head:
// a std::istream made per request (its locale set up) cost a third of parsing the head.
class HeadStream {
 public:
  std::istream& over(std::string_view bytes) {
    buffer_.pointAt(bytes);
    stream_.clear();
    return stream_;
  }

 private:
  struct Buffer : std::streambuf {
    void pointAt(std::string_view bytes) {
      char* begin = const_cast<char*>(bytes.data());  // only read: a get area, no put area
      setg(begin, begin, begin + bytes.size());
    }
  };
  Buffer buffer_;
  std::istream stream_{&buffer_};
};

// POCO's words for a request head over its size limits (MessageHeader::read).
bool isHeadTooLarge(const Poco::Net::MessageException& error) {
  const std::string& text = error.message();
  return text.find("Too many header fields") != std::string::npos ||
         text.find("Field name too long") != std::string::npos ||
         text.find("Field value too long") != std::string::npos;
}

bool isSupportedVersion(const std::string& version) {
  return version == Poco::Net::HTTPMessage::HTTP_1_1 || version == Poco::Net::HTTPMessage::HTTP_1_0;
}

bool isByteCount(const std::string& value) {
  return !value.empty() && value.size() <= 18 && value.find_first_not_of("0123456789") == std::string::npos;
}

// Where a body ends must be beyond doubt, or what follows it could be read as another request
// (request smuggling): refuse framings a proxy in front might read otherwise than this server.
// One pass over the header fields, since a request may repeat either header.
void requireUnambiguousFraming(const Poco::Net::HTTPRequest& request) {
  const std::string* length = nullptr;
  int codings = 0;
  for (const auto& [name, value] : request) {
    if (Poco::icompare(name, "Content-Length") == 0) {
      if (!isByteCount(value) || (length != nullptr && value != *length)) {
        throw HttpError(400, "Content-Length must be one number of bytes, not \"" + value + "\"");
      }
      length = &value;
    } else if (Poco::icompare(name, "Transfer-Encoding") == 0) {
      ++codings;
    }
  }
  if (codings == 0) return;
  if (codings > 1) throw HttpError(501, "Transfer-Encoding must be given once: a single chunked");
  if (!request.getChunkedTransferEncoding()) {
    throw HttpError(501, "Transfer-Encoding " + request.get("Transfer-Encoding") + " is not supported; use chunked");
  }
  if (length != nullptr) throw HttpError(400, "Transfer-Encoding and Content-Length cannot be combined");
}

bool isHexDigit(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

}  // namespace

bool RequestFramer::started(std::string_view input) { return blankPrefix(input) < input.size(); }

bool RequestFramer::takeContinueRequest() {
  if (!request_ || continueAsked_ || !request_->getExpectContinue()) return false;
  continueAsked_ = true;
  return true;
}

void RequestFramer::reset() {
  request_.reset();
  headBytes_ = 0;
  headScanned_ = 0;
  chunkAt_ = 0;
  contentLength_ = 0;
  chunked_ = false;
  continueAsked_ = false;
  body_.clear();
  consumed_ = 0;
  rejection_ = {};
}

RequestFramer::Progress RequestFramer::frame(std::string_view input, bool ended) {
  if (!request_) {
    const Progress head = frameHead(input, ended);
    if (head != Progress::Ready) return head;
  }
  return chunked_ ? frameChunkedBody(input, ended) : frameBody(input, ended);
}

RequestFramer::Progress RequestFramer::reject(int status, std::string detail) {
  rejection_ = Rejection{.status = status, .detail = std::move(detail), .method = request_ ? request_->getMethod() : ""};
  return Progress::Rejected;
}

RequestFramer::Progress RequestFramer::frameHead(std::string_view input, bool ended) {
  const std::size_t start = blankPrefix(input);
  // A line end found before may be completed by the new bytes: its last two are searched again.
  std::size_t end = headEnd(input, std::max(start, headScanned_ >= 2 ? headScanned_ - 2 : 0));
  const bool complete = end != std::string_view::npos;
  if (!complete) {
    headScanned_ = input.size();
    if (input.size() - start <= limits_.maxHeadBytes && !ended) return Progress::NeedMore;
    end = input.size();  // parsed as it is: POCO names what is wrong with it, if it can
  }
  auto request = std::make_unique<Poco::Net::HTTPRequest>();
  try {
    thread_local HeadStream head;
    request->read(head.over(input.substr(start, end - start)));
  } catch (const Poco::Net::MessageException& error) {
    return reject(isHeadTooLarge(error) ? 431 : 400, "The request is malformed: " + error.message());
  } catch (const Poco::Exception& error) {
    return reject(400, "The request is malformed: " + error.displayText());
  }
  request_ = std::move(request);
  if (!complete && ended) return reject(400, "The request ended before its head was complete");
  if (!complete) return reject(431, "The request head is larger than " + std::to_string(limits_.maxHeadBytes) + " bytes");
  headBytes_ = end;
  if (!isSupportedVersion(request_->getVersion())) {
    return reject(505, "Only HTTP/1.0 and HTTP/1.1 are served, not " + request_->getVersion());
  }
  try {
    requireUnambiguousFraming(*request_);
  } catch (const HttpError& error) {
    return reject(error.problem().status, error.problem().detail);
  }
  chunked_ = request_->getChunkedTransferEncoding();
  if (!chunked_ && request_->hasContentLength()) {
    const auto length = static_cast<std::uint64_t>(request_->getContentLength64());
    if (length > limits_.maxBodyBytes) return tooLarge();
    contentLength_ = static_cast<std::size_t>(length);
  }
  return Progress::Ready;
}

RequestFramer::Progress RequestFramer::tooLarge() {
  return reject(413, "The request body is larger than " + std::to_string(limits_.maxBodyBytes) + " bytes");
}

RequestFramer::Progress RequestFramer::frameBody(std::string_view input, bool ended) {
  if (input.size() - headBytes_ < contentLength_) {
    return ended ? reject(400, "The request ended before its body was complete") : Progress::NeedMore;
  }
  body_.assign(input.substr(headBytes_, contentLength_));
  consumed_ = headBytes_ + contentLength_;
  return Progress::Ready;
}

// Decoded as POCO 1.11 decodes chunks (HTTPChunkedStreamBuf): a size line that is not hex ends
// the body where it stands. The connection carries no further request after a chunked one, so
// what follows a malformed chunk is never read as a request.
RequestFramer::Progress RequestFramer::frameChunkedBody(std::string_view input, bool ended) {
  const std::string_view chunks = input.substr(headBytes_);
  const auto needMore = [&] {
    if (ended) return reject(400, "The request ended before its body was complete");
    // Chunk framing costs a few bytes a chunk: more than this is not a body within the limit.
    if (chunks.size() > 2 * limits_.maxBodyBytes + 1024) return tooLarge();
    return Progress::NeedMore;
  };
  std::size_t at = chunkAt_;
  while (true) {
    chunkAt_ = at;
    while (at < chunks.size() && isBlank(chunks[at])) ++at;
    const std::size_t digits = at;
    while (at < chunks.size() && at - digits < 8 && isHexDigit(chunks[at])) ++at;
    if (at == chunks.size()) return needMore();
    std::size_t size = 0;
    const bool validSize = at > digits && (isBlank(chunks[at]) || chunks[at] == ';');
    if (validSize) std::from_chars(chunks.data() + digits, chunks.data() + at, size, 16);
    const std::size_t lineEnd = chunks.find('\n', at);
    if (!validSize || size == 0) break;  // the last chunk, or a malformed one: the body ends here
    if (lineEnd == std::string_view::npos || chunks.size() - lineEnd - 1 < size) return needMore();
    if (body_.size() + size > limits_.maxBodyBytes) return tooLarge();
    const std::size_t dataEnd = chunks.find('\n', lineEnd + 1 + size);
    if (dataEnd == std::string_view::npos) return needMore();
    body_.append(chunks.substr(lineEnd + 1, size));
    at = dataEnd + 1;
  }
  consumed_ = input.size();
  return Progress::Ready;
}

}  // namespace svc::host
