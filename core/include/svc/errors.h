#pragma once

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

/// What a service throws when it refuses or cannot do what it was asked, in the domain's terms:
/// no HTTP here, so that any caller (a route, a queue consumer) can handle them. The host answers
/// each with problem+json in one place (svc::errorResponse in svc/http.h).
namespace svc {

/// One field's problem: `pointer` is a JSON pointer to the field ("/quantity"), "" for the whole input.
struct FieldError {
  std::string pointer;
  std::string detail;
};

/// The fields' details joined with "; ": the detail of an answer that lists them.
std::string joinedDetails(const std::vector<FieldError>& errors);

/// The base of the domain errors; what() is the detail a client may read.
class DomainError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The thing asked for does not exist (404).
class NotFound : public DomainError {
 public:
  using DomainError::DomainError;
};

/// The input breaks a rule (422): as a whole (`detail` only), or field by field (`title` and
/// `errors`; the detail then joins the fields' details with "; ").
class Invalid : public DomainError {
 public:
  explicit Invalid(const std::string& detail) : DomainError(detail) {}
  Invalid(std::string title, std::vector<FieldError> errors);
  const std::string& title() const noexcept { return title_; }
  const std::vector<FieldError>& errors() const noexcept { return errors_; }

 private:
  std::string title_;
  std::vector<FieldError> errors_;
};

/// The request conflicts with the current state, e.g. the same work is under way (409); a retry
/// may succeed after `retryAfter` when it is set.
class Conflict : public DomainError {
 public:
  explicit Conflict(const std::string& detail, std::optional<std::chrono::seconds> retryAfter = std::nullopt)
      : DomainError(detail), retryAfter_(retryAfter) {}
  std::optional<std::chrono::seconds> retryAfter() const noexcept { return retryAfter_; }

 private:
  std::optional<std::chrono::seconds> retryAfter_;
};

/// What the service needs is unavailable for now (503); retry after `retryAfter`.
/// svc::StorageUnavailable and svc::OutcomeUnknown (svc/storage.h) are the database's kinds,
/// svc::UpstreamUnavailable (svc/upstream.h) another service's.
class Unavailable : public DomainError {
 public:
  Unavailable(const std::string& detail, std::chrono::seconds retryAfter) : DomainError(detail), retryAfter_(retryAfter) {}
  std::chrono::seconds retryAfter() const noexcept { return retryAfter_; }

 private:
  std::chrono::seconds retryAfter_;
};

/// Something the service waits for did not answer within the request's deadline (504); the work
/// it asked for was not done by this request.
class TimedOut : public DomainError {
 public:
  using DomainError::DomainError;
};

}  // namespace svc
