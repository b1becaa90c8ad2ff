#include "svc/storage.h"

#include "session_pool.h"

namespace svc {

StorageUnavailable::StorageUnavailable(std::string cause, std::string detail, std::chrono::seconds retryAfter)
    : Unavailable(detail, retryAfter), cause_(std::move(cause)) {}

std::string_view Sql::textFor(std::string_view backend) const {
  for (const SqlText& text : texts_) {
    if (text.backend == backend || (text.backend.empty() && !text.text.empty())) return text.text;
  }
  throw std::invalid_argument("statement " + std::string(name_) + " has no text for the " + std::string(backend) +
                              " backend");
}

UnreadableColumn::UnreadableColumn(std::size_t column, std::string text)
    : std::runtime_error("unreadable value in column " + std::to_string(column) + ": " + text),
      column_(column),
      text_(std::move(text)) {}

Timestamp query_detail::readTimestamp(const SqlResult& result, std::size_t row, std::size_t column) {
  const std::string_view text = result.text(row, column);
  const std::optional<EpochMicros> micros = parseTimestamp(text);
  if (!micros) throw UnreadableColumn(column, std::string(text));
  return Timestamp{*micros};
}

SessionLease::SessionLease(std::unique_ptr<detail::LeasedConnection> connection) : connection_(std::move(connection)) {}

SessionLease::SessionLease(SessionLease&& other) noexcept = default;

SessionLease::~SessionLease() = default;

std::string_view SessionLease::backend() const { return connection_->backend(); }

const SqlResult& SessionLease::run(const Sql& sql, std::span<const SqlValue> parameters) {
  return connection_->connection().run(Statement{sql.name(), sql.textFor(connection_->backend())}, parameters);
}

void SessionLease::begin() { connection_->connection().runScript("BEGIN"); }
void SessionLease::commit() { connection_->connection().runScript("COMMIT"); }
void SessionLease::rollback() { connection_->connection().runScript("ROLLBACK"); }

Poco::Data::Session& SessionLease::session() { return connection_->connection().session(); }

}  // namespace svc
