#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include <Poco/Net/HTTPRequest.h>

namespace svc::host {

/// The size limits a request is read within.
struct FramingLimits {
  std::size_t maxHeadBytes = 65536;
  std::size_t maxBodyBytes = 16384;
};

/// A request that cannot be served as sent: answered with `status` and the connection closed.
struct Rejection {
  int status = 400;
  std::string detail;
  std::string method;  ///< empty when the head could not be read
};

/// Reads one HTTP/1.x request at a time out of the bytes a connection has received, without
/// waiting for any: the event loop calls `frame` again whenever more arrive. The head is parsed
/// by POCO (its field limits answer 431); the framing rules that keep a request from being
/// smuggled behind another are checked before any byte of the body is taken.
class RequestFramer {
 public:
  enum class Progress {
    NeedMore,  ///< nothing to do until more bytes arrive
    Ready,     ///< request() and body() hold a whole request of consumed() bytes
    Rejected,  ///< rejection() says why; the connection carries no further request
  };

  explicit RequestFramer(const FramingLimits& limits) : limits_(limits) {}

  /// Frames the request at the start of `input` (bytes already framed are not in it). Until
  /// reset(), each call's `input` is the last one with more bytes at its end.
  /// `ended`: the client will send nothing more.
  Progress frame(std::string_view input, bool ended);

  /// Whether a request has begun: bytes other than blank lines between requests arrived.
  static bool started(std::string_view input);
  /// Whether the client waits for "100 Continue" before sending the body: asked once per request.
  bool takeContinueRequest();

  const Poco::Net::HTTPRequest& request() const { return *request_; }
  /// The method of the request being framed, once its head is read; empty before.
  std::string method() const { return request_ ? request_->getMethod() : std::string(); }
  std::string takeBody() { return std::move(body_); }
  std::size_t consumed() const { return consumed_; }
  bool chunked() const { return chunked_; }
  const Rejection& rejection() const { return rejection_; }
  /// Forgets the request framed last, to frame the next.
  void reset();

 private:
  Progress frameHead(std::string_view input, bool ended);
  Progress frameBody(std::string_view input, bool ended);
  Progress frameChunkedBody(std::string_view input, bool ended);
  Progress reject(int status, std::string detail);
  Progress tooLarge();

  FramingLimits limits_;
  std::unique_ptr<Poco::Net::HTTPRequest> request_;
  std::size_t headBytes_ = 0;  ///< of the head, with blank lines before it; 0 until it is parsed
  /// How far the input was searched for the head's end: more bytes are searched from there, so
  /// that a head arriving a few bytes at a time costs its length, not its length squared.
  std::size_t headScanned_ = 0;
  /// Where the first chunk not yet decoded into body_ starts, after the head (likewise).
  std::size_t chunkAt_ = 0;
  std::size_t contentLength_ = 0;
  bool chunked_ = false;
  bool continueAsked_ = false;
  std::string body_;
  std::size_t consumed_ = 0;
  Rejection rejection_;
};

}  // namespace svc::host
