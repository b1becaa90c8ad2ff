#pragma once

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <thread>
#include <typeinfo>
#include <utility>

#include <Poco/Data/Session.h>
#include <Poco/Exception.h>

#include "svc/errors.h"

namespace svc {

/// What the database ran short of, which no retry fixes at once: the 503 it causes names it.
enum class DatabaseShortage {
  DiskSpace,    ///< SQLITE_FULL, PostgreSQL 53100 disk_full
  DiskIo,       ///< SQLITE_IOERR: the disk fails to read or write
  Memory,       ///< SQLITE_NOMEM, PostgreSQL 53200 out_of_memory
  Connections,  ///< PostgreSQL 53300 too_many_connections
};

/// The database cannot be reached, is restarting, or every session stayed busy: answered 503.
class StorageUnavailable : public Unavailable {
 public:
  explicit StorageUnavailable(std::string cause);
  /// With the `detail` the client reads instead of the default one.
  StorageUnavailable(std::string cause, std::string detail);
  /// The database is up but short of `shortage`: the detail names it, Retry-After is longer.
  StorageUnavailable(DatabaseShortage shortage, std::string cause);
  /// What went wrong underneath, for the log; never sent to the client.
  const std::string& cause() const noexcept { return cause_; }

 private:
  std::string cause_;
};

/// The connection broke, or was aborted at its deadline, while a unit of work ran on it: what
/// that work wrote may be committed or not. Storage::awaitEnd(lostSession()) tells when the
/// database can no longer commit it, so that the caller can look and know.
class WorkInterrupted : public StorageUnavailable {
 public:
  WorkInterrupted(std::string cause, std::string lostSession)
      : StorageUnavailable(std::move(cause)), lostSession_(std::move(lostSession)) {}
  /// The database's name for the server-side session of the lost connection ("" when it has none).
  const std::string& lostSession() const noexcept { return lostSession_; }

 private:
  std::string lostSession_;
};

/// A write may or may not have been committed and nothing could tell which in time: answered
/// 503 of type /problems/outcome-unknown, asking to retry with the same Idempotency-Key.
class OutcomeUnknown : public Unavailable {
 public:
  explicit OutcomeUnknown(std::string detail);
};

inline constexpr std::string_view kOutcomeUnknownProblemType = "/problems/outcome-unknown";

/// A statement broke a UNIQUE constraint (a conflict the caller may turn into a 409).
class UniqueViolation : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

using Deadline = std::chrono::steady_clock::time_point;

/// How long past its work deadline a request may spend finding out what became of work that was
/// interrupted (Storage::afterEnd), before it answers that the outcome is unknown.
inline constexpr std::chrono::milliseconds kSettleAllowance{250};

struct PooledConnection;
class ConnectionOwner;

/// Exclusive use of one pooled connection for the duration of a unit of work. What the pool keeps
/// with the connection (deadlines, its prepared statements) stays behind it.
class SessionLease {
 public:
  SessionLease(SessionLease&& other) noexcept;
  SessionLease& operator=(SessionLease&&) = delete;
  ~SessionLease();

  Poco::Data::Session& session();
  /// The database's name for the server-side session of this connection ("" when it has none).
  const std::string& serverSession() const;
  /// Closes the connection instead of returning it to the pool when the lease ends.
  void discard() { reusable_ = false; }

  /// The `Statements` object of this connection, built once from its session and kept while the
  /// connection lives, so that its statements are prepared once, not once per request. Behind a
  /// transaction-mode pooler it lives only as long as the lease. Build its statements with
  /// svc::Query (svc/query.h), which binds and clears for you.
  template <class Statements>
  Statements& prepared() {
    std::shared_ptr<void>& slot = preparedSlot(typeid(Statements));
    if (!slot) slot = std::make_shared<Statements>(session());
    return *static_cast<Statements*>(slot.get());
  }

 private:
  friend class Storage;
  friend class SessionPool;

  SessionLease(std::unique_ptr<PooledConnection> connection, ConnectionOwner& owner);
  std::shared_ptr<void>& preparedSlot(const std::type_info& type);
  /// Whether the pool aborted this lease's work at its deadline.
  bool aborted() const;
  /// The unit of work succeeded: commits the lease's transaction where the backend opened one
  /// (withSession calls it). Throws a Poco::Exception when the commit fails.
  void finish();
  /// Drops this connection's prepared statements without destroying them, after a failed
  /// statement: POCO 1.11 leaves a re-executed PostgreSQL statement whose execution failed
  /// with a freed result it frees again when run or destroyed.
  void abandonPrepared();

  std::unique_ptr<PooledConnection> connection_;
  ConnectionOwner* owner_;
  bool reusable_ = true;
};

/// The database as route plugins see it: pooled sessions of the configured backend.
class Storage {
 public:
  virtual ~Storage() = default;

  /// "sqlite", "postgresql", ...
  virtual std::string_view backend() const = 0;

  /// A session from the pool, waiting a bounded time ([storage] acquire_timeout_ms) for one to
  /// be free, for work that must end within the work timeout ([storage] statement_timeout_ms plus
  /// a grace): past it the pool cancels the work and cuts the connection, so that a database that
  /// stops answering costs a bounded wait. Throws StorageUnavailable when none can be had.
  virtual SessionLease acquire() = 0;
  /// The same, for work that must end by `deadline` when that comes before the work timeout.
  virtual SessionLease acquireUntil(Deadline deadline) = 0;

  /// Whether the work of a lost connection (WorkInterrupted::lostSession) can no longer commit,
  /// waiting for that at most until `deadline`: true once the database has ended that session;
  /// false when it could not be known in time. Throws StorageUnavailable when no connection works.
  virtual bool awaitEnd(const std::string& lostSession, Deadline deadline) = 0;

  /// How long a unit of work may take before the pool aborts it.
  virtual std::chrono::milliseconds workTimeout() const = 0;
  /// When a unit of work starting now must end.
  Deadline workDeadline() const { return std::chrono::steady_clock::now() + workTimeout(); }

  /// Runs `work(lease)` on a pooled session, then finishes the lease, and translates database
  /// failures: a lost connection becomes WorkInterrupted (a StorageUnavailable), a busy database or
  /// a statement the database refused for a reason the service does not recognise
  /// StorageUnavailable, a unique-constraint violation UniqueViolation.
  template <class Work>
  auto withSession(Work&& work) -> decltype(work(std::declval<SessionLease&>())) {
    return run(acquire(), std::forward<Work>(work));
  }
  /// What `look()` finds once the work `lost` interrupted can no longer commit: retried while the
  /// database cannot be reached, until `deadline`; nothing when it could not be known by then.
  /// `look` reads what that work would have written (with withSessionUntil(deadline, ...)).
  template <class Look>
  auto afterEnd(const WorkInterrupted& lost, Deadline deadline, Look&& look) -> std::optional<decltype(look())> {
    while (true) {
      try {
        if (awaitEnd(lost.lostSession(), deadline)) return look();
      } catch (const StorageUnavailable&) {
      }
      const auto pause = std::min<std::chrono::steady_clock::duration>(std::chrono::milliseconds(100),
                                                                      deadline - std::chrono::steady_clock::now());
      if (pause.count() <= 0) return std::nullopt;
      std::this_thread::sleep_for(pause);
    }
  }

  /// withSession for work that must end by `deadline`.
  template <class Work>
  auto withSessionUntil(Deadline deadline, Work&& work) -> decltype(work(std::declval<SessionLease&>())) {
    return run(acquireUntil(deadline), std::forward<Work>(work));
  }

 protected:
  /// Throws what `failure` means to a caller (StorageUnavailable, UniqueViolation), or returns
  /// when it is to propagate as it is.
  virtual void translateFailure(SessionLease& lease, const Poco::Exception& failure) = 0;

 private:
  template <class Work>
  auto run(SessionLease lease, Work&& work) -> decltype(work(std::declval<SessionLease&>())) {
    try {
      if constexpr (std::is_void_v<decltype(work(lease))>) {
        work(lease);
        lease.finish();
      } else {
        auto result = work(lease);
        lease.finish();
        return result;
      }
    } catch (const Poco::Exception& failure) {
      lease.abandonPrepared();
      translateFailure(lease, failure);
      throw;
    }
  }
};

}  // namespace svc
