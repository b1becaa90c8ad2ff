#pragma once

/// What the host and a storage backend exchange for one statement: its parameters, its rows, and
/// how it failed. Route plugins meet these through svc::Query (svc/storage.h).
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>

namespace svc {

/// What a failure of the database means for the request that met it.
enum class StorageFailure {
  ConnectionLost,      ///< the connection is unusable; what it ran may or may not have committed
  Busy,                ///< alive but could not serve in time (lock, serialization, statement timeout)
  UniqueViolation,     ///< a UNIQUE constraint refused the row
  OutOfDiskSpace,      ///< the disk is full (reads still work)
  DiskIoError,         ///< the disk fails to read or write; the connection is closed
  OutOfMemory,         ///< the server is out of memory
  TooManyConnections,  ///< the server accepts no more connections
  Other,               ///< a bug or a schema problem
};

/// A failure of the database, classified by the backend where it happened.
class DatabaseError : public std::runtime_error {
 public:
  DatabaseError(StorageFailure kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  StorageFailure kind() const noexcept { return kind_; }

 private:
  StorageFailure kind_;
};

/// A statement parameter: NULL, an integer, a real, text, or an array of integers (for one
/// statement of any batch size). Views are valid for the duration of the call.
using SqlValue = std::variant<std::nullptr_t, std::int64_t, double, std::string_view, std::span<const std::int64_t>>;

/// The rows of the statement last run on a connection, valid until the next one runs.
class SqlResult {
 public:
  virtual std::size_t rows() const = 0;
  /// Rows an INSERT, UPDATE or DELETE changed (RETURNING rows included).
  virtual std::size_t affected() const = 0;
  virtual bool isNull(std::size_t row, std::size_t column) const = 0;
  virtual std::int64_t integer(std::size_t row, std::size_t column) const = 0;
  virtual double real(std::size_t row, std::size_t column) const = 0;
  virtual std::string_view text(std::size_t row, std::size_t column) const = 0;

 protected:
  ~SqlResult() = default;
};

/// One statement as a connection runs it: `name` stays the same for the life of the process, so
/// a backend may prepare it once per connection under that name.
struct Statement {
  std::string_view name;
  std::string_view text;
};

}  // namespace svc
