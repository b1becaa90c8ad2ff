#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <typeindex>
#include <unordered_map>

#include <Poco/Data/Session.h>

#include "svc/storage.h"

namespace svc {

/// One open database connection and the prepared statements kept for it (pool internals, behind
/// SessionLease).
struct PooledConnection {
  PooledConnection(Poco::Data::Session opened, std::string identity)
      : session(std::move(opened)), serverSession(std::move(identity)) {}
  Poco::Data::Session session;
  std::string serverSession;  ///< the database's name for this connection's session (StorageBackend::identify)
  std::unordered_map<std::type_index, std::shared_ptr<void>> prepared;
  /// The lease runs in one transaction the backend opened (behind a transaction-mode pooler);
  /// its prepared statements live no longer than that transaction.
  bool leaseTransaction = false;
  /// While leased: when the database is asked to cancel the work, and when the connection is cut.
  Deadline cancelAt;
  Deadline deadline;
  /// 0 while within the deadline; 1 once the database was asked to cancel; 2 once the connection was cut.
  std::atomic<int> abortStage{0};
};

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

}  // namespace svc
