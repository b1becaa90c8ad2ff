#include "svc/errors.h"

namespace svc {

std::string joinedDetails(const std::vector<FieldError>& errors) {
  std::string detail;
  for (const FieldError& error : errors) detail += (detail.empty() ? "" : "; ") + error.detail;
  return detail;
}

Invalid::Invalid(std::string title, std::vector<FieldError> errors)
    : DomainError(joinedDetails(errors)), title_(std::move(title)), errors_(std::move(errors)) {}

}  // namespace svc
