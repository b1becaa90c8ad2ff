// The embedded backend: one SQLite file, shared by pooled connections in WAL mode so that
// readers never block the writer and concurrent writers wait (busy timeout) instead of failing.
#include <chrono>
#include <filesystem>
#include <limits>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include <sqlite3.h>

#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/SQLite/SQLiteException.h>
#include <Poco/Data/SQLite/Utility.h>
#include <Poco/String.h>

#include "svc/plugin_api.h"

namespace {

namespace sqlite = Poco::Data::SQLite;

constexpr std::size_t kOpenTimeoutSeconds = 1;
constexpr std::chrono::milliseconds kConfigureRetryPause{5};

std::string synchronousMode(const Poco::Util::AbstractConfiguration& config) {
  const std::string mode = Poco::toUpper(Poco::trim(config.getString("synchronous", "FULL")));
  if (mode != "FULL" && mode != "NORMAL" && mode != "EXTRA") {
    throw std::invalid_argument("storage-sqlite.synchronous must be FULL, NORMAL or EXTRA, not " + mode);
  }
  return mode;
}

// What every new connection runs first (max_page_count 0: as large as the disk allows).
std::string connectionPragmas(const svc::PluginContext& context) {
  std::string pragmas =
      "PRAGMA journal_mode = WAL; PRAGMA synchronous = " + synchronousMode(context.config) + "; PRAGMA foreign_keys = ON;";
  const int maxPageCount = context.intSetting("max_page_count", 0, 0, std::numeric_limits<int>::max());
  if (maxPageCount > 0) pragmas += " PRAGMA max_page_count = " + std::to_string(maxPageCount) + ";";
  return pragmas;
}

class SqliteBackend final : public svc::StorageBackend {
 public:
  explicit SqliteBackend(const svc::PluginContext& context)
      : database_(Poco::trim(context.config.getString("database", ""))),
        busyTimeoutMs_(context.intSetting("busy_timeout_ms", 5000, 0, 600000)),
        pragmas_(connectionPragmas(context)) {
    if (database_.empty()) throw std::invalid_argument("storage-sqlite.database must name the SQLite file");
    if (database_ == ":memory:") {
      throw std::invalid_argument("storage-sqlite.database cannot be :memory: (each pooled connection would see its own "
                                  "empty database); name a file");
    }
    sqlite::Connector::registerConnector();
  }

  ~SqliteBackend() override { sqlite::Connector::unregisterConnector(); }

  std::string name() const override { return "sqlite"; }
  std::string target() const override { return database_; }

  // The open is bounded by kOpenTimeoutSeconds (a local file), waiting for a locked one by
  // `timeout` and busy_timeout_ms.
  Poco::Data::Session connect(std::chrono::milliseconds timeout) override {
    const std::filesystem::path parent = std::filesystem::path(database_).parent_path();
    std::error_code error;
    if (!parent.empty() && !std::filesystem::create_directories(parent, error) && error) {
      throw sqlite::CantOpenDBFileException("cannot create " + parent.string() + ": " + error.message());
    }
    // POCO retries a failing open until its login timeout (60 s by default): a file that
    // cannot be opened must be a prompt 503, not a minute's wait.
    Poco::Data::Session session(sqlite::Connector::KEY, database_, kOpenTimeoutSeconds);
    sqlite3* db = sqlite::Utility::dbHandle(session);
    sqlite3_busy_timeout(db, busyTimeoutMs_);
    configure(db, std::min(timeout, std::chrono::milliseconds(busyTimeoutMs_)));
    return session;
  }

  bool isAlive(Poco::Data::Session& session) const override { return session.isConnected(); }

  // No server: the outcome of a statement is final once SQLite returns, even with an error.
  std::string identify(Poco::Data::Session&) const override { return ""; }
  bool awaitEnded(Poco::Data::Session&, const std::string&, std::chrono::milliseconds) const override { return true; }
  std::function<void()> closing(Poco::Data::Session&) const override { return {}; }

  // A statement past its deadline (a long query, or waits for a lock beyond busy_timeout_ms)
  // stops at its next step with SQLITE_INTERRUPT; sqlite3_interrupt may be called from any thread
  // while the connection stays open, which the pool guarantees.
  void cancel(Poco::Data::Session& session) const override { sqlite3_interrupt(sqlite::Utility::dbHandle(session)); }
  void sever(Poco::Data::Session& session) const override { cancel(session); }

  svc::StorageFailure classify(const Poco::Exception& failure, Poco::Data::Session&) const override {
    if (dynamic_cast<const sqlite::DBLockedException*>(&failure) ||
        dynamic_cast<const sqlite::TableLockedException*>(&failure)) {
      return svc::StorageFailure::Busy;
    }
    if (dynamic_cast<const sqlite::ConstraintViolationException*>(&failure) &&
        failure.displayText().find("UNIQUE") != std::string::npos) {
      return svc::StorageFailure::UniqueViolation;
    }
    if (dynamic_cast<const sqlite::DatabaseFullException*>(&failure)) return svc::StorageFailure::OutOfDiskSpace;
    if (dynamic_cast<const sqlite::IOErrorException*>(&failure)) return svc::StorageFailure::DiskIoError;
    if (dynamic_cast<const sqlite::NoMemoryException*>(&failure)) return svc::StorageFailure::OutOfMemory;
    if (dynamic_cast<const sqlite::CantOpenDBFileException*>(&failure)) return svc::StorageFailure::ConnectionLost;
    return svc::StorageFailure::Other;
  }

  // IMMEDIATE: the write lock at once, so another instance waits (busy timeout) at BEGIN instead
  // of failing to upgrade a read lock halfway.
  void beginMigrations(Poco::Data::Session& session) override { session << "BEGIN IMMEDIATE", Poco::Data::Keywords::now; }
  void endMigrations(Poco::Data::Session& session, bool commit) override {
    session << (commit ? "COMMIT" : "ROLLBACK"), Poco::Data::Keywords::now;
  }

 private:
  // Switching a new file to WAL needs its exclusive lock, and there SQLite answers "database is
  // locked" at once rather than calling the busy handler: an instance opening the file while
  // another migrates it would fail its start-up. So a busy answer is retried here, for as long
  // as a busy statement would wait.
  void configure(sqlite3* db, std::chrono::milliseconds wait) const {
    const auto deadline = std::chrono::steady_clock::now() + wait;
    while (true) {
      const int result = sqlite3_exec(db, pragmas_.c_str(), nullptr, nullptr, nullptr);
      if (result == SQLITE_OK) return;
      const std::string reason = "cannot configure " + database_ + ": " + sqlite3_errmsg(db);
      if ((result & 0xff) != SQLITE_BUSY) throw sqlite::SQLiteException(reason);
      // Locked, not unreachable: no reconnect back-off for it.
      if (std::chrono::steady_clock::now() >= deadline) throw svc::StorageUnavailable(reason);
      std::this_thread::sleep_for(kConfigureRetryPause);
    }
  }

  std::string database_;
  int busyTimeoutMs_;
  std::string pragmas_;
};

std::unique_ptr<svc::StorageBackend> createSqliteBackend(const svc::PluginContext& context) {
  return std::make_unique<SqliteBackend>(context);
}

}  // namespace

SVC_STORAGE_PLUGIN(createSqliteBackend)
