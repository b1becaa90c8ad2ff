#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "migrations.h"
#include "svc/log.h"
#include "svc/storage.h"
#include "svc/storage_plugin.h"

namespace svc {

struct PoolSettings {
  std::size_t size = 16;                             ///< open connections at most
  std::chrono::milliseconds acquireTimeout{1000};    ///< how long a request waits for a free one
  std::chrono::milliseconds reconnectBackoff{250};   ///< after a failed connect, fail fast this long
  std::chrono::milliseconds readyTimeout{1000};      ///< how long the readiness probe may take in all
  /// [storage] statement_timeout_ms: a unit of work may take this plus kDeadlineGrace before the
  /// pool aborts its connection; 0: no deadline.
  std::chrono::milliseconds statementTimeout{5000};
  /// [plugins] migrations: <root>/<schema>/<backend>/NNN_*.sql (see findPluginMigrations)
  std::filesystem::path migrationsRoot;
  std::vector<std::string> schemas;  ///< whose migrations to apply, in this order
};

struct PoolStats {
  std::size_t size = 0;
  std::size_t inUse = 0;
  std::size_t idle = 0;
  std::uint64_t waits = 0;     ///< acquisitions that had to wait for a connection
  std::uint64_t timeouts = 0;  ///< acquisitions that gave up waiting
};

/// How much longer than the statement timeout a unit of work may take before the pool aborts it:
/// enough for the database's own statement_timeout to fire first and answer.
inline constexpr std::chrono::milliseconds kDeadlineGrace{500};
/// How long past its work deadline a write whose connection was lost may spend finding out
/// whether it was committed (Storage::writeOnce), before it answers that the outcome is unknown.
inline constexpr std::chrono::milliseconds kSettleAllowance{250};

/// One open connection and what the watchdog needs of it while it is leased.
struct PooledConnection {
  explicit PooledConnection(std::unique_ptr<StorageConnection> opened)
      : connection(std::move(opened)), serverSession(connection->serverSession()) {}
  std::unique_ptr<StorageConnection> connection;
  std::string serverSession;  ///< the database's name for its session, "" when it has none
  /// While leased: when the database is asked to cancel the work, and when the connection is cut.
  Deadline cancelAt;
  Deadline deadline;
  /// 0 while within the deadline; 1 once the database was asked to cancel; 2 once the connection was cut.
  std::atomic<int> abortStage{0};
};

class SessionPool;

namespace detail {
/// The pool's side of a SessionLease: gives the connection back when the lease ends.
class LeasedConnection {
 public:
  LeasedConnection(SessionPool& pool, std::unique_ptr<PooledConnection> pooled, std::string_view backend)
      : pool_(pool), pooled_(std::move(pooled)), backend_(backend) {}
  ~LeasedConnection();
  LeasedConnection(const LeasedConnection&) = delete;
  LeasedConnection& operator=(const LeasedConnection&) = delete;

  StorageConnection& connection() { return *pooled_->connection; }
  PooledConnection& pooled() { return *pooled_; }
  std::string_view backend() const { return backend_; }
  /// Closes the connection instead of pooling it again when the lease ends.
  void discard() { reusable_ = false; }

 private:
  SessionPool& pool_;
  std::unique_ptr<PooledConnection> pooled_;
  std::string_view backend_;
  bool reusable_ = true;
};
}  // namespace detail

/// Work whose connection was lost, with the server session that ran it.
class LostWork : public WorkInterrupted {
 public:
  LostWork(std::string cause, std::string lostSession)
      : WorkInterrupted(std::move(cause)), lostSession_(std::move(lostSession)) {}
  const std::string& lostSession() const noexcept { return lostSession_; }
  /// Whether the end of that session can be awaited (not behind a pooler, kUnknowableSession).
  bool endVisible() const noexcept { return lostSession_ != kUnknowableSession; }

 private:
  std::string lostSession_;
};

/// The Storage route plugins use: connections of one StorageBackend, opened on demand up to
/// `size`, reused newest first, checked before reuse, and a schema brought up to date by the
/// migrations before the first one is handed out. A watchdog thread enforces each lease's
/// deadline: shortly before it the backend is asked to cancel the work, at it the connection is
/// cut (and then closed, never reused), so that a database that stops answering without closing
/// its connections (a silent network partition) costs each request a bounded wait.
class SessionPool final : public Storage {
 public:
  /// Reads the migration files now: throws MigrationError when they are missing or misnamed.
  SessionPool(std::unique_ptr<StorageBackend> backend, PoolSettings settings, const Logger& logger);
  ~SessionPool() override;

  std::string_view backend() const override { return backendName_; }
  std::string target() const { return backend_->target(); }
  Deadline workDeadline() const override;
  PoolStats stats() const;

  /// A lease of a connection for work that must end by `deadline` (or the work timeout);
  /// throws StorageUnavailable when none can be had in time.
  SessionLease acquireUntil(Deadline deadline);
  SessionLease acquire() { return acquireUntil(workDeadline()); }
  /// Whether the work of a lost connection can no longer commit, waiting at most until `deadline`.
  bool awaitEnd(const std::string& lostSession, Deadline deadline);

  /// Runs `SELECT 1` on a pooled connection, all within `wait` (a free connection, opening one,
  /// and the statement). Throws StorageUnavailable when the database cannot answer. When every
  /// connection stays leased for `wait` and the last attempt to connect succeeded, the database
  /// is busy serving them, not gone: no exception.
  void ping(std::chrono::milliseconds wait);

  /// Applies pending migrations unless done already. Throws StorageUnavailable when the database
  /// cannot be reached, MigrationError when a migration fails.
  void prepareSchema();

  /// Opens connections until `count` (at most the pool's size) are open, all within the acquire
  /// timeout; stops at the first that fails and leaves the rest to the requests.
  void warmUp(std::size_t count);

  /// Takes a connection back when its lease ends; `reusable` is false when it must be closed.
  void giveBack(std::unique_ptr<PooledConnection> connection, bool reusable) noexcept;

 protected:
  void runUnit(Deadline deadline, const std::function<void(SessionLease&)>& work) override;
  void runWriteOnce(Deadline deadline, const std::function<void(SessionLease&)>& write,
                    const std::function<bool(SessionLease&)>& check) override;

 private:
  std::unique_ptr<detail::LeasedConnection> leaseWithin(std::chrono::milliseconds wait, Deadline workDeadline);
  std::unique_ptr<detail::LeasedConnection> lease(std::unique_ptr<PooledConnection> connection, Deadline workDeadline);
  std::unique_ptr<PooledConnection> takeIdleOrReserve(std::chrono::steady_clock::time_point deadline,
                                                      std::chrono::milliseconds wait);
  std::unique_ptr<PooledConnection> connectNew(Deadline acquireDeadline);
  std::unique_ptr<PooledConnection> connect(std::chrono::milliseconds timeout);
  void ensureSchema();
  [[noreturn]] void translate(detail::LeasedConnection& leased, const DatabaseError& failure);
  std::optional<bool> settle(const LostWork& lost, Deadline deadline, const std::function<bool(SessionLease&)>& check);
  void endLostSessions(SessionLease& lease);
  void watch(PooledConnection& connection, Deadline workDeadline);
  void unwatch(PooledConnection& connection) noexcept;
  void watchDeadlines();
  Deadline abortDue(std::chrono::steady_clock::time_point now);
  void severIdleConnections() noexcept;
  bool busyButReachable() const;
  void releaseSlot() noexcept;
  void applyPendingMigrations(StorageConnection& connection);

  std::unique_ptr<StorageBackend> backend_;
  const std::string backendName_;
  const PoolSettings settings_;
  const std::vector<Migration> migrations_;
  const Logger& logger_;

  mutable std::mutex mutex_;
  std::condition_variable released_;
  std::vector<std::unique_ptr<PooledConnection>> idle_;
  std::size_t open_ = 0;  ///< idle, leased, and being opened
  std::uint64_t waits_ = 0;
  std::uint64_t timeouts_ = 0;

  std::mutex schemaMutex_;
  std::atomic<bool> schemaReady_{false};
  std::atomic<std::int64_t> nextConnectAttempt_{0};  ///< steady-clock ticks
  std::atomic<std::int64_t> lastConnected_{0};       ///< steady-clock ticks of the last successful connect
  std::atomic<bool> reachable_{true};

  /// Server sessions of lost work that could not be seen to end: ended by the next lease, so that
  /// what they hold (a row lock) does not stall a retry.
  std::mutex lostMutex_;
  std::vector<std::string> lostSessions_;
  std::atomic<bool> anyLost_{false};

  std::mutex watchMutex_;  ///< held while the watchdog acts on a leased connection
  std::condition_variable watchChanged_;
  std::vector<PooledConnection*> leased_;
  Deadline nextCheck_ = Deadline::max();
  bool stopping_ = false;
  std::thread watchdog_;  ///< last: started once everything it reads is built
};

}  // namespace svc
