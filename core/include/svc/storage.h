#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeindex>
#include <unordered_map>
#include <utility>

#include <Poco/Data/Session.h>
#include <Poco/Exception.h>

#include "svc/http.h"

namespace svc {

/// What the database ran short of, which no retry fixes at once: the 503 it causes names it.
enum class DatabaseShortage {
  DiskSpace,    ///< SQLITE_FULL, PostgreSQL 53100 disk_full
  DiskIo,       ///< SQLITE_IOERR: the disk fails to read or write
  Memory,       ///< SQLITE_NOMEM, PostgreSQL 53200 out_of_memory
  Connections,  ///< PostgreSQL 53300 too_many_connections
};

/// The database cannot be reached, is restarting, or every session stayed busy: answered 503.
class StorageUnavailable : public HttpError {
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

/// A statement broke a UNIQUE constraint (a conflict the caller may turn into a 409).
class UniqueViolation : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// One open database connection and the prepared statements kept for it.
struct PooledConnection {
  explicit PooledConnection(Poco::Data::Session opened) : session(std::move(opened)) {}
  Poco::Data::Session session;
  std::unordered_map<std::type_index, std::shared_ptr<void>> prepared;
  /// The lease runs in one transaction the backend opened (behind a transaction-mode pooler);
  /// its prepared statements live no longer than that transaction.
  bool leaseTransaction = false;
};

class SessionLease;

/// Takes back connections when their lease ends.
class ConnectionOwner {
 public:
  /// `reusable` is false when the connection was found broken and must be closed.
  virtual void giveBack(std::unique_ptr<PooledConnection> connection, bool reusable) noexcept = 0;
  /// Ends the unit of work of a lease that succeeded (commits a lease transaction); throws a
  /// Poco::Exception when that fails.
  virtual void finishLease(PooledConnection& connection) = 0;

 protected:
  ~ConnectionOwner() = default;
};

/// Exclusive use of one pooled connection for the duration of a unit of work.
class SessionLease {
 public:
  SessionLease(std::unique_ptr<PooledConnection> connection, ConnectionOwner& owner);
  SessionLease(SessionLease&& other) noexcept;
  SessionLease& operator=(SessionLease&&) = delete;
  ~SessionLease();

  Poco::Data::Session& session() { return connection_->session; }
  /// Closes the connection instead of returning it to the pool when the lease ends.
  void discard() { reusable_ = false; }
  /// The unit of work succeeded: commits the lease's transaction where the backend opened one
  /// (withSession calls it). Throws a Poco::Exception when the commit fails.
  void finish();
  /// Drops this connection's prepared statements without destroying them, after a failed
  /// statement: POCO 1.11 leaves a re-executed PostgreSQL statement whose execution failed
  /// with a freed result it frees again when run or destroyed.
  void abandonPrepared();

  /// The `Statements` object of this connection, built once from its session and kept while the
  /// connection lives, so that its statements are prepared once, not once per request. Behind a
  /// transaction-mode pooler it lives only as long as the lease.
  template <class Statements>
  Statements& prepared() {
    auto& slot = connection_->prepared[std::type_index(typeid(Statements))];
    if (!slot) slot = std::make_shared<Statements>(connection_->session);
    return *static_cast<Statements*>(slot.get());
  }

 private:
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

  /// A session from the pool, waiting a bounded time for one to be free.
  /// Throws StorageUnavailable when none can be had.
  virtual SessionLease acquire() = 0;

  /// Runs `work(lease)` on a pooled session, then finishes the lease, and translates database
  /// failures: a lost connection, a busy database or a statement the database refused for a reason
  /// the service does not recognise become StorageUnavailable, a unique-constraint violation
  /// UniqueViolation.
  template <class Work>
  auto withSession(Work&& work) -> decltype(work(std::declval<SessionLease&>())) {
    SessionLease lease = acquire();
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

 protected:
  /// Throws what `failure` means to a caller (StorageUnavailable, UniqueViolation), or returns
  /// when it is to propagate as it is.
  virtual void translateFailure(SessionLease& lease, const Poco::Exception& failure) = 0;
};

}  // namespace svc
