// The embedded backend: one SQLite file, shared by pooled connections in WAL mode so that
// readers never block the writer and concurrent writers wait (busy timeout) instead of failing.
// Connections are opened through POCO Data; statements are prepared once per connection and run
// with SQLite's own API, which binds `$n` by its number (POCO binds by first appearance).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <variant>
#include <vector>

#include <sqlite3.h>

#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/SQLite/Utility.h>
#include <Poco/Exception.h>

#include "svc/storage_plugin.h"

namespace {

namespace sqlite = Poco::Data::SQLite;
using svc::StorageFailure;

constexpr svc::Setting kSettings[] = {
    svc::Setting::text("database", "${application.dir}data/orders.db",
                       "The database file (its folder is created); not :memory:, which each pooled connection "
                       "would see empty"),
    svc::Setting::millis("busy_timeout_ms", "5000", 0, 600000,
                         "How long a statement waits for another connection's write lock before it fails as busy"),
    svc::Setting::choice("synchronous", "full", "full|normal|extra",
                         "SQLite's PRAGMA synchronous: full means a 201 is on disk"),
    svc::Setting::integer("max_page_count", "0", 0, std::numeric_limits<int>::max(),
                          "A cap on the file, in pages of 4 KiB (0: as large as the disk allows); past it writes "
                          "answer 503 naming a full disk, reads go on"),
};

svc::SettingsSchema settingsSchema() { return kSettings; }

constexpr std::size_t kOpenTimeoutSeconds = 1;
constexpr std::chrono::milliseconds kConfigureRetryPause{5};

StorageFailure failureOf(int code) {
  switch (code & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_INTERRUPT:
      return StorageFailure::Busy;
    case SQLITE_CONSTRAINT:
      return code == SQLITE_CONSTRAINT_UNIQUE || code == SQLITE_CONSTRAINT_PRIMARYKEY ? StorageFailure::UniqueViolation
                                                                                        : StorageFailure::Other;
    case SQLITE_FULL:
      return StorageFailure::OutOfDiskSpace;
    case SQLITE_IOERR:
      return StorageFailure::DiskIoError;
    case SQLITE_NOMEM:
      return StorageFailure::OutOfMemory;
    case SQLITE_CANTOPEN:
      return StorageFailure::ConnectionLost;
    default:
      return StorageFailure::Other;
  }
}

// The connection's last error, with its extended code (a UNIQUE constraint, not any constraint).
svc::DatabaseError failureNow(sqlite3* db, std::string_view what) {
  const int code = sqlite3_extended_errcode(db);
  return svc::DatabaseError(failureOf(code),
                         std::string(what) + ": " + sqlite3_errmsg(db) + " (SQLite " + std::to_string(code) + ")");
}

[[noreturn]] void fail(sqlite3* db, std::string_view what) { throw failureNow(db, what); }

/// One writer at a time among this process's connections, the others waiting in line. Left to
/// SQLite, a writer that finds the file locked sleeps in the busy handler (1 ms, growing to
/// 100 ms a time) and may lose to newcomers again and again: with four cancels at once, 1 in 100
/// waited over 600 ms, some 2 s (issue 20). Another process on the same file still meets the
/// busy handler.
class WriterLock {
 public:
  /// Whether the lock was taken by `deadline`; false as well once `cancelled` is set.
  bool acquire(std::chrono::steady_clock::time_point deadline, const std::atomic<bool>& cancelled) {
    std::unique_lock lock(mutex_);
    if (!freed_.wait_until(lock, deadline, [&] { return !held_ || cancelled.load(); }) || cancelled.load()) return false;
    held_ = true;
    return true;
  }
  void release() {
    {
      std::lock_guard lock(mutex_);
      held_ = false;
    }
    freed_.notify_one();
  }
  /// Wakes every waiter to look at its cancelled flag.
  void wakeAll() {
    { std::lock_guard lock(mutex_); }
    freed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable freed_;
  bool held_ = false;
};

/// The rows of the last statement, copied out of SQLite as they were stepped.
class SqliteResult final : public svc::SqlResult {
 public:
  using Cell = std::variant<std::nullptr_t, std::int64_t, double, std::string>;

  void reset(std::size_t columns) {
    columns_ = columns;
    cells_.clear();
    affected_ = 0;
  }
  void addRow(sqlite3_stmt* statement) {
    for (int c = 0; c < static_cast<int>(columns_); ++c) {
      switch (sqlite3_column_type(statement, c)) {
        case SQLITE_NULL:
          cells_.emplace_back(nullptr);
          break;
        case SQLITE_INTEGER:
          cells_.emplace_back(static_cast<std::int64_t>(sqlite3_column_int64(statement, c)));
          break;
        case SQLITE_FLOAT:
          cells_.emplace_back(sqlite3_column_double(statement, c));
          break;
        default:
          cells_.emplace_back(std::string(reinterpret_cast<const char*>(sqlite3_column_text(statement, c)),
                                          static_cast<std::size_t>(sqlite3_column_bytes(statement, c))));
      }
    }
  }
  void setAffected(std::size_t affected) { affected_ = affected; }

  std::size_t rows() const override { return columns_ == 0 ? 0 : cells_.size() / columns_; }
  std::size_t affected() const override { return affected_; }
  bool isNull(std::size_t row, std::size_t column) const override {
    return std::holds_alternative<std::nullptr_t>(cell(row, column));
  }
  std::int64_t integer(std::size_t row, std::size_t column) const override {
    const Cell& value = cell(row, column);
    if (const auto* number = std::get_if<std::int64_t>(&value)) return *number;
    throw std::runtime_error("column " + std::to_string(column) + " is not an integer");
  }
  double real(std::size_t row, std::size_t column) const override {
    const Cell& value = cell(row, column);
    if (const auto* number = std::get_if<std::int64_t>(&value)) return static_cast<double>(*number);
    if (const auto* number = std::get_if<double>(&value)) return *number;
    throw std::runtime_error("column " + std::to_string(column) + " is not a number");
  }
  std::string_view text(std::size_t row, std::size_t column) const override {
    const Cell& value = cell(row, column);
    if (const auto* text = std::get_if<std::string>(&value)) return *text;
    throw std::runtime_error("column " + std::to_string(column) + " is not text");
  }

 private:
  const Cell& cell(std::size_t row, std::size_t column) const { return cells_.at(row * columns_ + column); }

  std::size_t columns_ = 0;
  std::vector<Cell> cells_;
  std::size_t affected_ = 0;
};

/// A statement prepared on one connection, with the index of each `$n` it uses.
struct Prepared {
  sqlite3_stmt* statement = nullptr;
  std::vector<int> indexOfParameter;  ///< [n - 1]: SQLite's index of `$n`, 0 when unused
};

class SqliteConnection final : public svc::StorageConnection {
 public:
  SqliteConnection(Poco::Data::Session session, std::shared_ptr<WriterLock> writers, std::chrono::milliseconds busyTimeout)
      : session_(std::move(session)),
        db_(sqlite::Utility::dbHandle(session_)),
        writers_(std::move(writers)),
        busyTimeout_(busyTimeout) {}

  ~SqliteConnection() override {
    for (auto& [text, prepared] : prepared_) sqlite3_finalize(prepared.statement);
    if (writing_) writers_->release();
  }

  Poco::Data::Session& session() override { return session_; }

  const svc::SqlResult& run(const svc::Statement& statement, std::span<const svc::SqlValue> parameters) override {
    const Prepared& prepared = prepare(statement, parameters.size());
    sqlite3_stmt* stmt = prepared.statement;
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    std::vector<std::string> arrays;  // JSON text of array parameters, alive while the statement runs
    arrays.reserve(parameters.size());
    for (std::size_t i = 0; i < parameters.size(); ++i) {
      if (prepared.indexOfParameter[i] != 0) bind(stmt, prepared.indexOfParameter[i], parameters[i], arrays);
    }
    const WriteScope write(*this, sqlite3_stmt_readonly(stmt) == 0, statement.name);
    result_.reset(static_cast<std::size_t>(sqlite3_column_count(stmt)));
    int code = SQLITE_ROW;
    while ((code = sqlite3_step(stmt)) == SQLITE_ROW) result_.addRow(stmt);
    if (code != SQLITE_DONE) {
      const svc::DatabaseError failure = failureNow(db_, statement.name);
      sqlite3_reset(stmt);
      throw failure;
    }
    sqlite3_reset(stmt);
    result_.setAffected(static_cast<std::size_t>(sqlite3_changes64(db_)));
    return result_;
  }

  // An explicit transaction (BEGIN) counts as a writer until it ends.
  void runScript(std::string_view sql) override {
    const WriteScope write(*this, sql.starts_with("BEGIN"), "script");
    const int code = sqlite3_exec(db_, std::string(sql).c_str(), nullptr, nullptr, nullptr);
    if (code != SQLITE_OK) fail(db_, "script");
  }

  bool inTransaction() override { return sqlite3_get_autocommit(db_) == 0; }
  // No server: the outcome of a statement is final once SQLite returns, even with an error.
  std::string serverSession() override { return ""; }
  bool isAlive() override { return session_.isConnected(); }
  // A statement past its deadline (a long query, or one waiting for a lock beyond
  // busy_timeout_ms) stops at its next step with SQLITE_INTERRUPT; sqlite3_interrupt may be
  // called from any thread while the connection stays open, which the pool guarantees.
  void cancel() override {
    cancelled_ = true;
    writers_->wakeAll();
    sqlite3_interrupt(db_);
  }
  void sever() override { cancel(); }

 private:
  /// Holds the writer lock around a statement that writes outside a transaction, or from a BEGIN
  /// to the end of its transaction: released once the connection is back in autocommit mode.
  class WriteScope {
   public:
    WriteScope(SqliteConnection& connection, bool writes, std::string_view what) : connection_(connection) {
      if (!writes || connection_.writing_ || sqlite3_get_autocommit(connection_.db_) == 0) return;
      if (!connection_.writers_->acquire(std::chrono::steady_clock::now() + connection_.busyTimeout_,
                                         connection_.cancelled_)) {
        throw svc::DatabaseError(StorageFailure::Busy, std::string(what) + ": another connection of this service "
                                                                           "kept the database's write lock beyond busy_timeout_ms");
      }
      connection_.writing_ = true;
    }
    ~WriteScope() {
      if (connection_.writing_ && sqlite3_get_autocommit(connection_.db_) != 0) {
        connection_.writing_ = false;
        connection_.writers_->release();
      }
    }
    WriteScope(const WriteScope&) = delete;
    WriteScope& operator=(const WriteScope&) = delete;

   private:
    SqliteConnection& connection_;
  };

  const Prepared& prepare(const svc::Statement& statement, std::size_t parameterCount) {
    const auto known = prepared_.find(statement.text);
    if (known != prepared_.end()) return known->second;
    Prepared prepared;
    const int code = sqlite3_prepare_v3(db_, statement.text.data(), static_cast<int>(statement.text.size()),
                                        SQLITE_PREPARE_PERSISTENT, &prepared.statement, nullptr);
    if (code != SQLITE_OK) fail(db_, statement.name);
    for (std::size_t n = 1; n <= parameterCount; ++n) {
      prepared.indexOfParameter.push_back(sqlite3_bind_parameter_index(prepared.statement, ("$" + std::to_string(n)).c_str()));
    }
    return prepared_.emplace(statement.text, std::move(prepared)).first->second;
  }

  static void bind(sqlite3_stmt* stmt, int index, const svc::SqlValue& value, std::vector<std::string>& arrays) {
    if (const auto* number = std::get_if<std::int64_t>(&value)) {
      sqlite3_bind_int64(stmt, index, *number);
    } else if (const auto* real = std::get_if<double>(&value)) {
      sqlite3_bind_double(stmt, index, *real);
    } else if (const auto* text = std::get_if<std::string_view>(&value)) {
      sqlite3_bind_text(stmt, index, text->data(), static_cast<int>(text->size()), SQLITE_STATIC);
    } else if (const auto* items = std::get_if<std::span<const std::int64_t>>(&value)) {
      std::string json = "[";  // read with json_each($n)
      for (const std::int64_t item : *items) json += (json.size() > 1 ? "," : "") + std::to_string(item);
      arrays.push_back(json + "]");
      sqlite3_bind_text(stmt, index, arrays.back().data(), static_cast<int>(arrays.back().size()), SQLITE_STATIC);
    } else {
      sqlite3_bind_null(stmt, index);
    }
  }

  Poco::Data::Session session_;
  sqlite3* db_;
  std::shared_ptr<WriterLock> writers_;
  std::chrono::milliseconds busyTimeout_;
  bool writing_ = false;  ///< holds the writer lock
  std::atomic<bool> cancelled_{false};
  std::unordered_map<std::string_view, Prepared> prepared_;  ///< by statement text
  SqliteResult result_;
};

class SqliteBackend final : public svc::StorageBackend {
 public:
  explicit SqliteBackend(const svc::StoragePluginContext& context)
      : database_(context.settings.text("database")),
        busyTimeout_(context.settings.millis("busy_timeout_ms")),
        pragmas_(connectionPragmas(context.settings)) {
    if (database_.empty()) throw svc::SettingError("storage-sqlite.database must name the SQLite file");
    if (database_ == ":memory:") {
      throw svc::SettingError("storage-sqlite.database cannot be :memory: (each pooled connection would see its own "
                              "empty database); name a file");
    }
    sqlite::Connector::registerConnector();
  }

  ~SqliteBackend() override { sqlite::Connector::unregisterConnector(); }

  std::string name() const override { return "sqlite"; }
  std::string target() const override { return database_; }

  // The open is bounded by kOpenTimeoutSeconds (a local file), waiting for a locked one by
  // `timeout` and busy_timeout_ms.
  std::unique_ptr<svc::StorageConnection> connect(std::chrono::milliseconds timeout) override {
    const std::filesystem::path parent = std::filesystem::path(database_).parent_path();
    std::error_code error;
    if (!parent.empty() && !std::filesystem::create_directories(parent, error) && error) {
      throw svc::DatabaseError(StorageFailure::ConnectionLost, "cannot create " + parent.string() + ": " + error.message());
    }
    std::unique_ptr<SqliteConnection> connection;
    try {
      // POCO retries a failing open until its login timeout (60 s by default): a file that
      // cannot be opened must be a prompt 503, not a minute's wait.
      connection = std::make_unique<SqliteConnection>(
          Poco::Data::Session(sqlite::Connector::KEY, database_, kOpenTimeoutSeconds), writers_, busyTimeout_);
    } catch (const Poco::Exception& failure) {
      throw svc::DatabaseError(StorageFailure::ConnectionLost, "cannot open " + database_ + ": " + failure.displayText());
    }
    sqlite3* db = sqlite::Utility::dbHandle(connection->session());
    sqlite3_busy_timeout(db, static_cast<int>(busyTimeout_.count()));
    configure(db, std::min(timeout, busyTimeout_));
    return connection;
  }

  bool awaitEnded(svc::StorageConnection&, const std::string&, std::chrono::milliseconds) override { return true; }

  // IMMEDIATE: the write lock at once, so another instance waits (busy timeout) at BEGIN instead
  // of failing to upgrade a read lock halfway.
  void beginMigrations(svc::StorageConnection& connection) override { connection.runScript("BEGIN IMMEDIATE"); }

 private:
  // What every new connection runs first (max_page_count 0: as large as the disk allows).
  static std::string connectionPragmas(const svc::Settings& settings) {
    std::string pragmas = "PRAGMA journal_mode = WAL; PRAGMA synchronous = " + settings.text("synchronous") +
                          "; PRAGMA foreign_keys = ON;";
    const std::int64_t maxPageCount = settings.integer("max_page_count");
    if (maxPageCount > 0) pragmas += " PRAGMA max_page_count = " + std::to_string(maxPageCount) + ";";
    return pragmas;
  }

  // Switching a new file to WAL needs its exclusive lock, and there SQLite answers "database is
  // locked" at once rather than calling the busy handler: an instance opening the file while
  // another migrates it would fail its start-up. So a busy answer is retried here, for as long
  // as a busy statement would wait; still locked then, it is busy (not unreachable).
  void configure(sqlite3* db, std::chrono::milliseconds wait) const {
    const auto deadline = std::chrono::steady_clock::now() + wait;
    while (true) {
      const int code = sqlite3_exec(db, pragmas_.c_str(), nullptr, nullptr, nullptr);
      if (code == SQLITE_OK) return;
      const std::string reason = "cannot configure " + database_ + ": " + sqlite3_errmsg(db);
      if ((code & 0xff) != SQLITE_BUSY || std::chrono::steady_clock::now() >= deadline) {
        throw svc::DatabaseError((code & 0xff) == SQLITE_BUSY ? StorageFailure::Busy : failureOf(code), reason);
      }
      std::this_thread::sleep_for(kConfigureRetryPause);
    }
  }

  std::string database_;
  std::chrono::milliseconds busyTimeout_;
  std::string pragmas_;
  std::shared_ptr<WriterLock> writers_ = std::make_shared<WriterLock>();
};

std::unique_ptr<svc::StorageBackend> createSqliteBackend(const svc::StoragePluginContext& context) {
  return std::make_unique<SqliteBackend>(context);
}

}  // namespace

SVC_STORAGE_PLUGIN(createSqliteBackend, settingsSchema)
