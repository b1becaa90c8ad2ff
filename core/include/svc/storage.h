#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "svc/errors.h"
#include "svc/sql.h"
#include "svc/timestamp.h"

// Declared only: a plugin that uses SessionLease::session() includes <Poco/Data/Session.h>, and
// every other route plugin compiles without POCO Data's headers (a third of its compile time).
namespace Poco::Data {
class Session;
}

namespace svc {

using Deadline = std::chrono::steady_clock::time_point;

/// The database cannot be reached, is restarting, is short of a resource, or every connection
/// stayed busy: answered 503.
class StorageUnavailable : public Unavailable {
 public:
  /// `cause` is for the log, never sent; `detail` is what the client reads.
  explicit StorageUnavailable(std::string cause, std::string detail = "The database is unavailable; retry later",
                              std::chrono::seconds retryAfter = std::chrono::seconds(1));
  const std::string& cause() const noexcept { return cause_; }

 private:
  std::string cause_;
};

/// A statement broke a UNIQUE constraint: a conflict the caller may turn into svc::Conflict.
class UniqueViolation : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// One backend's text of a statement.
struct SqlText {
  std::string_view backend;
  std::string_view text;
};

/// A named SQL statement: the same text on every backend, or one per backend where their SQL
/// differs. A repository declares its statements as constants in one place, for a reviewer to
/// read, and runs them through svc::Query.
class Sql {
 public:
  constexpr Sql(std::string_view name, std::string_view text) : name_(name), texts_{SqlText{"", text}} {}
  constexpr Sql(std::string_view name, SqlText first, SqlText second) : name_(name), texts_{first, second} {}

  constexpr std::string_view name() const { return name_; }
  /// The text for `backend`; std::invalid_argument when it has none.
  std::string_view textFor(std::string_view backend) const;

 private:
  std::string_view name_;
  std::array<SqlText, 2> texts_;
};

namespace detail {
class LeasedConnection;
}  // namespace detail

/// Exclusive use of one pooled connection for one unit of work (Storage::withSession).
class SessionLease {
 public:
  explicit SessionLease(std::unique_ptr<detail::LeasedConnection> connection);
  SessionLease(SessionLease&& other) noexcept;
  SessionLease& operator=(SessionLease&&) = delete;
  ~SessionLease();

  /// The backend's name ("sqlite", "postgresql").
  std::string_view backend() const;
  /// Runs `sql` (svc::Query does this for you); throws what withSession documents.
  const SqlResult& run(const Sql& sql, std::span<const SqlValue> parameters);
  void begin();
  void commit();
  void rollback();
  /// The POCO Data session, for a plugin that prefers POCO's statements to svc::Query.
  Poco::Data::Session& session();

  detail::LeasedConnection& connection() { return *connection_; }

 private:
  std::unique_ptr<detail::LeasedConnection> connection_;
};

/// The database as route plugins see it: a pool of connections of the configured backend.
class Storage {
 public:
  virtual ~Storage() = default;

  /// "sqlite", "postgresql", ...
  virtual std::string_view backend() const = 0;
  /// When a unit of work starting now must end: [storage] statement_timeout_ms (plus a grace)
  /// from now, or the deadline of the request being served when that comes first.
  virtual Deadline workDeadline() const = 0;

  /// Runs `work(lease)` on a pooled connection as one unit of work, which must end by
  /// workDeadline() (past it the pool cancels the work and cuts the connection). An open
  /// transaction left by `work` is rolled back. Throws StorageUnavailable when the database
  /// cannot serve (WorkInterrupted when the connection was lost while the work ran: whether
  /// what it wrote was committed is then unknown), UniqueViolation for a UNIQUE constraint.
  template <class Work>
  auto withSession(Work&& work) {
    return withSessionUntil(workDeadline(), std::forward<Work>(work));
  }
  /// withSession for work that must end by `deadline` (or workDeadline(), whichever is first).
  template <class Work>
  auto withSessionUntil(Deadline deadline, Work&& work) {
    using Result = std::invoke_result_t<Work&, SessionLease&>;
    if constexpr (std::is_void_v<Result>) {
      runUnit(deadline, work);
    } else {
      std::optional<Result> result;
      runUnit(deadline, [&](SessionLease& lease) { result.emplace(work(lease)); });
      return std::move(*result);
    }
  }

  /// Runs a write like withSessionUntil. When its connection is lost so that the write may or may
  /// not have been committed, waits until the database can no longer commit it (its server session
  /// ended, at most until `deadline`), then returns `check(lease)`: what the write stored, or
  /// nothing when it stored nothing (then StorageUnavailable). Throws OutcomeUnknown when that
  /// cannot be known by `deadline`. `check` must read what the write would have written, e.g.
  /// by a unique token the write stored.
  template <class Write, class Check>
  auto writeOnce(Deadline deadline, Write&& write, Check&& check) {
    using Result = std::invoke_result_t<Write&, SessionLease&>;
    std::optional<Result> result;
    runWriteOnce(
        deadline, [&](SessionLease& lease) { result.emplace(write(lease)); },
        [&](SessionLease& lease) {
          std::optional<Result> found = check(lease);
          if (found) result.emplace(std::move(*found));
          return found.has_value();
        });
    return std::move(*result);
  }

 protected:
  virtual void runUnit(Deadline deadline, const std::function<void(SessionLease&)>& work) = 0;
  virtual void runWriteOnce(Deadline deadline, const std::function<void(SessionLease&)>& write,
                            const std::function<bool(SessionLease&)>& check) = 0;
};

/// A connection was lost while a unit of work ran on it: what it wrote may or may not be committed.
class WorkInterrupted : public StorageUnavailable {
 public:
  using StorageUnavailable::StorageUnavailable;
};

/// A write may or may not have been committed and nothing could tell which in time: answered
/// 503 of type /problems/outcome-unknown.
class OutcomeUnknown : public Unavailable {
 public:
  explicit OutcomeUnknown(const std::string& detail) : Unavailable(detail, std::chrono::seconds(1)) {}
};

inline constexpr std::string_view kOutcomeUnknownProblemType = "/problems/outcome-unknown";

// --- typed statements -------------------------------------------------------------------------

/// A timestamp parameter or column: written as RFC 3339 UTC text, read from whatever text the
/// backend prints, so that both backends give the same instant.
struct Timestamp {
  EpochMicros micros = 0;
};

/// A column whose text is not of its type: only the row holding it fails to read.
class UnreadableColumn : public std::runtime_error {
 public:
  UnreadableColumn(std::size_t column, std::string text);
  std::size_t column() const noexcept { return column_; }
  const std::string& text() const noexcept { return text_; }

 private:
  std::size_t column_;
  std::string text_;
};

namespace query_detail {

template <class T>
inline constexpr bool kIsOptional = false;
template <class T>
inline constexpr bool kIsOptional<std::optional<T>> = true;

Timestamp readTimestamp(const SqlResult& result, std::size_t row, std::size_t column);

/// A parameter as the backend takes it; `text` keeps what it views alive.
template <class T>
SqlValue toSql(const T& value, std::string& text) {
  if constexpr (kIsOptional<T>) {
    return value ? toSql(*value, text) : SqlValue(nullptr);
  } else if constexpr (std::is_integral_v<T>) {
    return static_cast<std::int64_t>(value);
  } else if constexpr (std::is_same_v<T, Timestamp>) {
    text = formatRfc3339Millis(value.micros);
    return std::string_view(text);
  } else if constexpr (std::is_same_v<T, std::vector<std::int64_t>>) {
    return std::span<const std::int64_t>(value);
  } else {
    return std::string_view(value);
  }
}

/// A column read as T (a Timestamp it cannot read throws UnreadableColumn).
template <class T>
T fromSql(const SqlResult& result, std::size_t row, std::size_t column) {
  if constexpr (kIsOptional<T>) {
    if (result.isNull(row, column)) return std::nullopt;
    return fromSql<typename T::value_type>(result, row, column);
  } else if constexpr (std::is_same_v<T, bool>) {
    return result.integer(row, column) != 0;
  } else if constexpr (std::is_integral_v<T>) {
    return static_cast<T>(result.integer(row, column));
  } else if constexpr (std::is_same_v<T, double>) {
    return result.real(row, column);
  } else if constexpr (std::is_same_v<T, Timestamp>) {
    return readTimestamp(result, row, column);
  } else {
    return std::string(result.text(row, column));
  }
}

}  // namespace query_detail

template <class Params, class Row>
class Query;

/// A named statement with typed parameters and columns:
///
///   inline constexpr svc::Sql kNoteById{"note_by_id", "SELECT body, created_at FROM notes WHERE id = $1"};
///   const svc::Query<std::tuple<std::int64_t>, std::tuple<std::string, svc::Timestamp>> noteById{kNoteById};
///   auto rows = noteById.run(lease, id);          // rows.size(), rows.at(0), rows.get<0>(0), rows.all()
///
/// Parameter types: integers, std::string, svc::Timestamp, std::vector<std::int64_t> (an array:
/// `= ANY($1)` on PostgreSQL, `IN (SELECT value FROM json_each($1))` on SQLite) and std::optional
/// of them (NULL). Column types: integers, bool, double, std::string, svc::Timestamp and
/// std::optional of them. The rows stay readable until the lease runs its next statement.
template <class... Params, class... Columns>
class Query<std::tuple<Params...>, std::tuple<Columns...>> {
 public:
  using Row = std::tuple<Columns...>;

  class Rows {
   public:
    explicit Rows(const SqlResult& result) : result_(result) {}
    /// Rows returned; for a statement without columns, rows changed.
    std::size_t size() const { return sizeof...(Columns) == 0 ? result_.affected() : result_.rows(); }
    bool empty() const { return size() == 0; }
    /// A row, converted when read: an unreadable column throws UnreadableColumn.
    Row at(std::size_t row) const { return rowAt(row, std::index_sequence_for<Columns...>{}); }
    template <std::size_t I>
    auto get(std::size_t row) const {
      return query_detail::fromSql<std::tuple_element_t<I, Row>>(result_, row, I);
    }
    std::vector<Row> all() const {
      std::vector<Row> rows;
      for (std::size_t row = 0; row < size(); ++row) rows.push_back(at(row));
      return rows;
    }

   private:
    template <std::size_t... I>
    Row rowAt(std::size_t row, std::index_sequence<I...>) const {
      return Row{query_detail::fromSql<Columns>(result_, row, I)...};
    }
    const SqlResult& result_;
  };

  constexpr explicit Query(Sql sql) : sql_(sql) {}

  Rows run(SessionLease& lease, const Params&... params) const {
    return run(lease, std::index_sequence_for<Params...>{}, params...);
  }

 private:
  template <std::size_t... I>
  Rows run(SessionLease& lease, std::index_sequence<I...>, const Params&... params) const {
    [[maybe_unused]] std::array<std::string, sizeof...(Params)> texts;  // empty for a statement without parameters
    const std::array<SqlValue, sizeof...(Params)> values{query_detail::toSql(params, texts[I])...};
    return Rows(lease.run(sql_, values));
  }

  Sql sql_;
};

}  // namespace svc
