#pragma once

#include <exception>
#include <optional>
#include <string>
#include <string_view>

#include "svc/http.h"

namespace svc {

std::string_view reasonPhrase(int status);
std::string problemJson(const Problem& problem);

/// The one mapping of errors to answers: an HttpError's problem, or the problem+json of a domain
/// error (NotFound 404, Invalid 422, Conflict 409, Unavailable 503; OutcomeUnknown as
/// /problems/outcome-unknown), with Retry-After where the error has one. Nothing for any
/// other exception.
std::optional<Response> errorResponse(const std::exception& error);

}  // namespace svc
