#include "svc/http.h"

#include "exchange.h"
#include "problems.h"

#include <charconv>
#include <limits>

#include <Poco/Exception.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/MediaType.h>
#include <Poco/Net/NameValueCollection.h>
#include <Poco/String.h>
#include <Poco/URI.h>

#include "svc/storage.h"

namespace svc {

HttpError::HttpError(Problem problem, std::vector<Header> headers)
    : std::runtime_error(problem.detail), problem_(std::move(problem)), headers_(std::move(headers)) {}

HttpError::HttpError(int status, std::string detail) : HttpError(Problem{.status = status, .detail = std::move(detail)}) {}

std::string_view reasonPhrase(int status) {
  return Poco::Net::HTTPResponse::getReasonForStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
}

std::string problemJson(const Problem& problem) {
  json::ObjectWriter body;
  body.add("type", problem.type)
      .add("title", problem.title.empty() ? std::string(reasonPhrase(problem.status)) : problem.title)
      .add("status", problem.status)
      .add("detail", problem.detail);
  if (!problem.errors.empty()) {
    json::ArrayWriter errors;
    for (const FieldError& error : problem.errors) {
      errors.add(json::ObjectWriter().add("pointer", error.pointer).add("detail", error.detail));
    }
    body.add("errors", errors);
  }
  return body.str();
}

Problem validationProblem(int status, std::string title, std::vector<FieldError> errors) {
  return Problem{.status = status,
                 .type = std::string(kValidationProblemType),
                 .title = std::move(title),
                 .detail = joinedDetails(errors),
                 .errors = std::move(errors)};
}

namespace {

Response withRetryAfter(Response response, std::optional<std::chrono::seconds> retryAfter) {
  if (retryAfter) response.withHeader("Retry-After", std::to_string(retryAfter->count()));
  return response;
}

Problem unavailableProblem(const Unavailable& error) {
  if (dynamic_cast<const OutcomeUnknown*>(&error) != nullptr) {
    return Problem{.status = 503,
                   .type = std::string(kOutcomeUnknownProblemType),
                   .title = "Outcome unknown",
                   .detail = error.what()};
  }
  return Problem{.status = 503, .detail = error.what()};
}

}  // namespace

std::optional<Response> errorResponse(const std::exception& error) {
  if (const auto* http = dynamic_cast<const HttpError*>(&error)) {
    Response response = Response::problem(http->problem());
    for (const Header& header : http->headers()) response.withHeader(header.name, header.value);
    return response;
  }
  if (dynamic_cast<const NotFound*>(&error) != nullptr) {
    return Response::problem(Problem{.status = 404, .detail = error.what()});
  }
  if (const auto* invalid = dynamic_cast<const Invalid*>(&error)) {
    if (invalid->errors().empty()) return Response::problem(Problem{.status = 422, .detail = error.what()});
    return Response::problem(validationProblem(422, invalid->title(), invalid->errors()));
  }
  if (dynamic_cast<const TimedOut*>(&error) != nullptr) {
    return Response::problem(Problem{.status = 504, .detail = error.what()});
  }
  if (const auto* conflict = dynamic_cast<const Conflict*>(&error)) {
    return withRetryAfter(Response::problem(Problem{.status = 409, .detail = error.what()}), conflict->retryAfter());
  }
  if (const auto* unavailable = dynamic_cast<const Unavailable*>(&error)) {
    return withRetryAfter(Response::problem(unavailableProblem(*unavailable)), unavailable->retryAfter());
  }
  return std::nullopt;
}

Response Response::json(int status, std::string body) {
  return Response{.status = status, .contentType = "application/json", .body = std::move(body)};
}

Response Response::problem(const Problem& problem) {
  return Response{.status = problem.status, .contentType = "application/problem+json", .body = problemJson(problem)};
}

Response& Response::withHeader(std::string name, std::string value) {
  headers.push_back(Header{std::move(name), std::move(value)});
  return *this;
}

Request::Request(std::string method, std::string path, std::string query, std::string_view route, PathParams params,
                 const Poco::Net::NameValueCollection& headers, std::string body,
                 std::shared_ptr<const RequestContext> context)
    : method_(std::move(method)),
      path_(std::move(path)),
      query_(std::move(query)),
      route_(route),
      params_(std::move(params)),
      headers_(headers),
      body_(std::move(body)),
      context_(std::move(context)) {}

Reply::Reply(std::shared_ptr<detail::Exchange> exchange) : exchange_(std::move(exchange)) {}
Reply::Reply(Reply&&) noexcept = default;
Reply& Reply::operator=(Reply&&) noexcept = default;

Reply::~Reply() {
  if (exchange_) exchange_->abandon();
}

void Reply::send(Response response) {
  if (!exchange_) throw std::logic_error("a reply was sent twice");
  std::exchange(exchange_, nullptr)->complete(std::move(response));
}

void Reply::fail(std::exception_ptr error) {
  if (!exchange_) throw std::logic_error("a reply was sent twice");
  std::exchange(exchange_, nullptr)->fail(std::move(error));
}

const std::string& Request::pathParam(std::string_view name) const {
  for (const auto& [key, value] : params_) {
    if (key == name) return value;
  }
  throw std::out_of_range("route " + std::string(route_) + " has no parameter " + std::string(name));
}

std::optional<std::string> Request::queryParam(std::string_view name) const {
  Poco::URI uri;
  uri.setRawQuery(query_);
  Poco::URI::QueryParameters parameters;
  try {
    parameters = uri.getQueryParameters();
  } catch (const Poco::SyntaxException&) {  // a malformed percent-escape, e.g. "%zz"
    throw HttpError(400, "The query string is not validly percent-encoded: \"" + query_ + "\"");
  }
  for (const auto& [key, value] : parameters) {
    if (key == name) return value;
  }
  return std::nullopt;
}

std::optional<std::string> Request::header(const std::string& name) const {
  const auto it = headers_.find(name);
  if (it == headers_.end()) return std::nullopt;
  return it->second;
}

namespace {

void requireJsonMediaType(const Request& request) {
  const std::optional<std::string> contentType = request.header("Content-Type");
  if (!contentType) return;  // lenient: a body without a declared type is read as JSON
  const Poco::Net::MediaType mediaType(*contentType);
  const bool isJson = Poco::icompare(mediaType.getType(), "application") == 0 &&
                      Poco::icompare(mediaType.getSubType(), "json") == 0;
  const std::string charset = mediaType.hasParameter("charset") ? mediaType.getParameter("charset") : "utf-8";
  if (!isJson || Poco::icompare(charset, "utf-8") != 0) {
    throw HttpError(415, "Content-Type must be application/json (UTF-8), not \"" + *contentType + "\"");
  }
}

}  // namespace

json::Value parseJsonBody(const Request& request, const json::ParseOptions& options) {
  requireJsonMediaType(request);
  if (request.body().empty()) throw HttpError(400, "The request body is empty; a JSON document is expected");
  try {
    return json::parse(request.body(), options);
  } catch (const json::ParseError& error) {
    throw HttpError(400, std::string("The request body is not valid JSON: ") + error.what());
  }
}

std::int64_t positiveIdParam(const Request& request, std::string_view name) {
  const std::string& text = request.pathParam(name);
  std::int64_t id = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, error] = std::from_chars(text.data(), end, id);
  const bool digitsOnly = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
  if (!digitsOnly || error != std::errc() || ptr != end || id < 1) {
    throw HttpError(400, std::string(name) + " must be a positive integer no greater than " +
                             std::to_string(std::numeric_limits<std::int64_t>::max()) + ", not \"" + text + "\"");
  }
  return id;
}

}  // namespace svc
