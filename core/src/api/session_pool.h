#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "migrations.h"
#include "pooled_connection.h"
#include "svc/log.h"
#include "svc/plugin.h"
#include "svc/storage.h"

namespace svc {

struct PoolSettings {
  std::size_t size = 16;                             ///< open connections at most
  std::chrono::milliseconds acquireTimeout{1000};    ///< how long a request waits for a free one
  std::chrono::milliseconds reconnectBackoff{250};   ///< after a failed connect, fail fast this long
  std::chrono::milliseconds readyTimeout{1000};      ///< how long the readiness probe may take in all
  /// [storage] statement_timeout_ms: a unit of work may take this plus kDeadlineGrace before the
  /// pool aborts its connection; 0: no deadline.
  std::chrono::milliseconds statementTimeout{5000};
  /// [plugins] migrations: <root>/<plugin>/<backend>/NNN_*.sql (see findPluginMigrations)
  std::filesystem::path migrationsRoot;
  std::vector<std::string> schemaPlugins;  ///< whose migrations to apply, in this order
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

/// The Storage route plugins use: connections of one StorageBackend, opened on demand up to
/// `size`, reused newest first, checked before reuse, and a schema brought up to date by the
/// migrations before the first one is handed out. A watchdog thread enforces each lease's
/// deadline: shortly before it the backend is asked to cancel the work, at it the connection is
/// cut (and then closed, never reused), so that a database that stops answering without closing
/// its connections (a silent network partition) costs each request a bounded wait.
class SessionPool final : public Storage, private ConnectionOwner {
 public:
  /// Reads the migration files now: throws MigrationError when they are missing or misnamed.
  SessionPool(std::unique_ptr<StorageBackend> backend, PoolSettings settings, const Logger& logger);
  ~SessionPool() override;

  std::string_view backend() const override { return backendName_; }
  std::string target() const { return backend_->target(); }
  SessionLease acquire() override;
  SessionLease acquireUntil(Deadline deadline) override;
  bool awaitEnd(const std::string& lostSession, Deadline deadline) override;
  std::chrono::milliseconds workTimeout() const override;
  PoolStats stats() const;

  /// Runs `SELECT 1` on a pooled connection, all within `wait` (a free connection, opening one,
  /// and the statement). Throws StorageUnavailable when the
  /// database cannot answer. When every connection stays leased for `wait` and the last attempt
  /// to connect succeeded, the database is busy serving them, not gone: no exception.
  void ping(std::chrono::milliseconds wait);

  /// Applies pending migrations unless done already. Throws StorageUnavailable when the database
  /// cannot be reached, MigrationError when a migration fails.
  void prepareSchema();

 protected:
  void translateFailure(SessionLease& lease, const Poco::Exception& failure) override;

 private:
  void giveBack(std::unique_ptr<PooledConnection> connection, bool reusable) noexcept override;
  void finishLease(PooledConnection& connection) override;
  /// Commits or rolls back the transaction a lease ran in (behind a transaction-mode pooler).
  void endLeaseTransaction(PooledConnection& connection, bool commit);
  SessionLease lease(std::unique_ptr<PooledConnection> connection);
  SessionLease acquireWithin(std::chrono::milliseconds wait, Deadline workDeadline);
  std::unique_ptr<PooledConnection> takeIdleOrReserve(std::chrono::steady_clock::time_point deadline,
                                                      std::chrono::milliseconds wait);
  SessionLease leaseNew(Deadline acquireDeadline, Deadline workDeadline);
  Deadline workDeadlineFrom(std::chrono::steady_clock::time_point start) const;
  void watch(PooledConnection& connection, Deadline workDeadline);
  void unwatch(PooledConnection& connection) noexcept;
  void watchDeadlines();
  Deadline abortDue(std::chrono::steady_clock::time_point now);
  void severIdleConnections() noexcept;
  void close(std::unique_ptr<PooledConnection> connection) noexcept;
  void selectOne(std::chrono::milliseconds wait);
  bool busyButReachable() const;
  std::unique_ptr<PooledConnection> connect(std::chrono::milliseconds timeout);
  void releaseSlot() noexcept;
  void applyPendingMigrations(Poco::Data::Session& session);
  void abandonMigrations(Poco::Data::Session& session) noexcept;

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

  std::mutex watchMutex_;  ///< held while the watchdog acts on a leased connection
  std::condition_variable watchChanged_;
  std::vector<PooledConnection*> leased_;
  Deadline nextCheck_ = Deadline::max();
  bool stopping_ = false;
  std::thread watchdog_;  ///< last: started once everything it reads is built
};

}  // namespace svc
