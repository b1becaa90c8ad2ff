#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "svc/async.h"
#include "svc/context.h"
#include "svc/errors.h"
#include "svc/json.h"

namespace Poco::Net {
class NameValueCollection;
}

namespace svc {

/// An RFC 9457 problem detail, sent as application/problem+json.
struct Problem {
  int status = 500;
  std::string type = "about:blank";
  std::string title;  ///< empty: the status code's reason phrase
  std::string detail;
  std::vector<FieldError> errors;
};

/// Problem types more specific than "about:blank" (documented in docs/api.md).
inline constexpr std::string_view kValidationProblemType = "/problems/validation-error";
/// A 404 for a path that no route of the service serves, whatever the method: a caller can tell it
/// from a route's own 404 (the thing it names does not exist).
inline constexpr std::string_view kNoRouteProblemType = "/problems/no-route";

struct Header {
  std::string name;
  std::string value;
};

/// Thrown by handlers (or helpers below) for a condition of HTTP itself (a body that is not JSON,
/// a malformed header or query): answered with its problem. The domain's refusals are the
/// errors of svc/errors.h.
class HttpError : public std::runtime_error {
 public:
  explicit HttpError(Problem problem, std::vector<Header> headers = {});
  HttpError(int status, std::string detail);
  const Problem& problem() const noexcept { return problem_; }
  const std::vector<Header>& headers() const noexcept { return headers_; }

 private:
  Problem problem_;
  std::vector<Header> headers_;
};

struct Response {
  int status = 200;
  std::string contentType = "application/json";
  std::string body;
  std::vector<Header> headers;

  static Response json(int status, std::string body);
  static Response problem(const Problem& problem);
  Response& withHeader(std::string name, std::string value);
};

/// A problem of type /problems/validation-error listing `errors`, its detail their details joined.
Problem validationProblem(int status, std::string title, std::vector<FieldError> errors);

using PathParams = std::vector<std::pair<std::string, std::string>>;

/// What a route handler sees of a request: its route's parameters, the query, headers and the body,
/// already read within the server's size limit. An asynchronous handler may use it until it
/// sends its reply.
class Request {
 public:
  Request(std::string method, std::string path, std::string query, std::string_view route, PathParams params,
          const Poco::Net::NameValueCollection& headers, std::string body,
          std::shared_ptr<const RequestContext> context);

  const std::string& method() const { return method_; }
  /// The decoded path, without the query.
  const std::string& path() const { return path_; }
  /// The pattern of the matched route, e.g. "/orders/{id}".
  std::string_view route() const { return route_; }
  /// A `{name}` parameter of the matched route (decoded); throws std::out_of_range for another name.
  const std::string& pathParam(std::string_view name) const;
  /// A decoded query parameter, or nothing when it is absent; HttpError 400 when the query
  /// string has a malformed percent-escape.
  std::optional<std::string> queryParam(std::string_view name) const;
  /// A header's value, or nothing when it is absent (names are case-insensitive).
  std::optional<std::string> header(const std::string& name) const;
  const std::string& body() const { return body_; }
  /// Its id and deadline (also svc::currentRequest() on the thread that serves it).
  const RequestContext& context() const { return *context_; }

 private:
  std::string method_;
  std::string path_;
  std::string query_;
  std::string_view route_;
  PathParams params_;
  const Poco::Net::NameValueCollection& headers_;
  std::string body_;
  std::shared_ptr<const RequestContext> context_;
};

namespace detail {
class Exchange;  ///< the host's side of a request being answered
}  // namespace detail

/// The answer to one request, to be given once, now or later, from any thread. A reply destroyed
/// without an answer is answered 500 (and logged): a bug of the handler.
class Reply {
 public:
  explicit Reply(std::shared_ptr<detail::Exchange> exchange);
  Reply(Reply&&) noexcept;
  Reply& operator=(Reply&&) noexcept;
  ~Reply();

  void send(Response response);
  /// Answers with the problem document of `error`: an HttpError's, a domain error's (svc/errors.h),
  /// or a logged 500.
  void fail(std::exception_ptr error);

  /// A completion that sends `respond(value)`, or fails with the error (or what `respond` throws).
  template <class T, class Respond>
  Completion<T> then(Respond respond) && {
    auto reply = std::make_shared<Reply>(std::move(*this));
    return Completion<T>([reply, respond = std::move(respond)](Result<T> result) mutable {
      if (!result.ok()) return reply->fail(result.error());
      try {
        reply->send(respond(result.value()));
      } catch (...) {
        reply->fail(std::current_exception());
      }
    });
  }

 private:
  std::shared_ptr<detail::Exchange> exchange_;
};

/// A handler that may block (on the database): it runs on a worker thread.
using Handler = std::function<Response(const Request&)>;
/// A handler that must not block: it runs on the thread that read the request and answers
/// through `reply`, at once or later (from the thread that finished the work).
using AsyncHandler = std::function<void(const Request&, Reply)>;

/// The body as one JSON value: 415 when Content-Type names another media type, 400 when the
/// body is empty, malformed or nested deeper than `options.maxDepth`.
json::Value parseJsonBody(const Request& request, const json::ParseOptions& options = {});

/// A path parameter that names a stored row: a positive 64-bit integer, otherwise 400.
std::int64_t positiveIdParam(const Request& request, std::string_view name);

}  // namespace svc
