#include "session_pool.h"

#include <Poco/Data/Extraction.h>
#include <Poco/Data/Statement.h>

namespace svc {

namespace {

using Clock = std::chrono::steady_clock;

std::int64_t ticks(Clock::time_point time) { return time.time_since_epoch().count(); }

}  // namespace

SessionPool::SessionPool(std::unique_ptr<StorageBackend> backend, PoolSettings settings, const Logger& logger)
    : backend_(std::move(backend)),
      backendName_(backend_->name()),
      settings_(std::move(settings)),
      migrations_(findMigrations(settings_.migrationsDirectory)),
      logger_(logger) {}

SessionPool::~SessionPool() = default;

SessionLease SessionPool::acquire() { return acquireWithin(settings_.acquireTimeout); }

SessionLease SessionPool::acquireWithin(std::chrono::milliseconds wait) {
  if (!schemaReady_.load(std::memory_order_acquire)) {
    try {
      prepareSchema();
    } catch (const MigrationError& error) {
      logger_.error("Database schema migration failed", {{"reason", error.what()}});
      throw StorageUnavailable(error.what());
    }
  }
  const Clock::time_point deadline = Clock::now() + wait;  // for the whole acquisition, dead connections included
  while (true) {
    std::unique_ptr<PooledConnection> connection = takeIdleOrReserve(deadline, wait);
    if (!connection) {
      std::unique_ptr<PooledConnection> opened;
      try {
        opened = connect();
      } catch (...) {
        releaseSlot();
        throw;
      }
      return lease(std::move(opened));
    }
    if (backend_->isAlive(connection->session)) return lease(std::move(connection));
    logger_.debug("Dropped a database connection the server had closed", {{"backend", backendName_}});
    connection.reset();
    releaseSlot();
  }
}

// A lease of `connection`, in a transaction of its own where the backend asks for one.
SessionLease SessionPool::lease(std::unique_ptr<PooledConnection> connection) {
  try {
    connection->leaseTransaction = backend_->beginLease(connection->session);
  } catch (const Poco::Exception& failure) {
    connection.reset();
    releaseSlot();
    throw StorageUnavailable(failure.displayText());
  }
  return SessionLease(std::move(connection), *this);
}

// The statements go first, inside the transaction they were prepared in.
void SessionPool::finishLease(PooledConnection& connection) {
  if (!connection.leaseTransaction) return;
  connection.prepared.clear();
  connection.leaseTransaction = false;
  backend_->endLeaseTransaction(connection.session, true);
}

// An idle connection, or nullptr after reserving a slot for a new one; waits until `deadline`
// while every slot is taken.
std::unique_ptr<PooledConnection> SessionPool::takeIdleOrReserve(Clock::time_point deadline,
                                                                 std::chrono::milliseconds wait) {
  std::unique_lock lock(mutex_);
  if (idle_.empty() && open_ >= settings_.size) {
    ++waits_;
    const bool freed = released_.wait_until(lock, deadline, [&] { return !idle_.empty() || open_ < settings_.size; });
    if (!freed) {
      ++timeouts_;
      throw StorageUnavailable("no database connection became free within " + std::to_string(wait.count()) + " ms");
    }
  }
  if (!idle_.empty()) {
    std::unique_ptr<PooledConnection> connection = std::move(idle_.back());
    idle_.pop_back();
    return connection;
  }
  ++open_;
  return nullptr;
}

std::unique_ptr<PooledConnection> SessionPool::connect() {
  if (ticks(Clock::now()) < nextConnectAttempt_.load(std::memory_order_relaxed)) {
    throw StorageUnavailable("the database was unreachable moments ago");
  }
  try {
    auto connection = std::make_unique<PooledConnection>(backend_->connect());
    if (!reachable_.exchange(true)) logger_.info("Database reachable again", {{"backend", backendName_}});
    return connection;
  } catch (const Poco::Exception& failure) {
    nextConnectAttempt_.store(ticks(Clock::now() + settings_.reconnectBackoff), std::memory_order_relaxed);
    if (reachable_.exchange(false)) {
      logger_.warning("Database unreachable", {{"backend", backendName_}, {"reason", failure.displayText()}});
    }
    throw StorageUnavailable(failure.displayText());
  }
}

void SessionPool::releaseSlot() noexcept {
  {
    std::lock_guard lock(mutex_);
    --open_;
  }
  released_.notify_one();
}

void SessionPool::giveBack(std::unique_ptr<PooledConnection> connection, bool reusable) noexcept {
  try {
    if (reusable && connection->session.isTransaction()) connection->session.rollback();
    if (reusable && connection->leaseTransaction) {
      connection->prepared.clear();
      connection->leaseTransaction = false;
      backend_->endLeaseTransaction(connection->session, false);
    }
  } catch (...) {
    reusable = false;
  }
  if (!reusable) {
    connection.reset();
    releaseSlot();
    return;
  }
  {
    std::lock_guard lock(mutex_);
    idle_.push_back(std::move(connection));
  }
  released_.notify_one();
}

void SessionPool::ping(std::chrono::milliseconds wait) {
  try {
    selectOne(wait);
  } catch (const StorageUnavailable&) {
    if (!busyButReachable()) throw;
  }
}

bool SessionPool::busyButReachable() const {
  std::lock_guard lock(mutex_);
  return idle_.empty() && open_ >= settings_.size && reachable_.load();
}

void SessionPool::selectOne(std::chrono::milliseconds wait) {
  SessionLease lease = acquireWithin(wait);
  try {
    int one = 0;
    lease.session() << "SELECT 1", Poco::Data::Keywords::into(one), Poco::Data::Keywords::now;
  } catch (const Poco::Exception& failure) {
    translateFailure(lease, failure);
    throw StorageUnavailable(failure.displayText());  // whatever the failure, the database did not answer
  }
}

PoolStats SessionPool::stats() const {
  std::lock_guard lock(mutex_);
  return PoolStats{.size = settings_.size,
                   .inUse = open_ - idle_.size(),
                   .idle = idle_.size(),
                   .waits = waits_,
                   .timeouts = timeouts_};
}

void SessionPool::prepareSchema() {
  std::lock_guard lock(schemaMutex_);
  if (schemaReady_.load(std::memory_order_acquire)) return;
  std::unique_ptr<PooledConnection> connection = connect();
  applyPendingMigrations(connection->session);
  schemaReady_.store(true, std::memory_order_release);
}

// All pending migrations in one transaction that holds the backend's migration lock: instances
// starting together wait for each other, and the second finds everything recorded. A failure
// the database may get over (connection lost, lock timeout, a conflict) is retried by the next
// request that needs the schema; one it will not (a broken migration) is a MigrationError.
void SessionPool::applyPendingMigrations(Poco::Data::Session& session) {
  std::vector<std::string> applied;
  std::string step = "taking the migration lock";
  try {
    backend_->beginMigrations(session);
    step = "reading schema_migrations";
    for (const Migration& migration : pendingMigrations(session, migrations_)) {
      step = "migration " + migration.name;
      applyMigration(session, migration);
      applied.push_back(migration.name);
    }
    step = "committing the migrations";
    backend_->endMigrations(session, true);
  } catch (const Poco::Exception& failure) {
    abandonMigrations(session);
    if (backend_->classify(failure, session) != StorageFailure::Other) {
      logger_.warning("Database schema migration interrupted; retried when next needed",
                      {{"backend", backendName_}, {"step", step}, {"reason", failure.displayText()}});
      throw StorageUnavailable(step + " failed: " + failure.displayText());
    }
    throw MigrationError(step + " failed: " + failure.displayText());
  } catch (...) {
    abandonMigrations(session);
    throw;
  }
  for (const std::string& name : applied) {
    logger_.info("Applied database migration", {{"migration", name}, {"backend", backendName_}});
  }
  logger_.info("Database schema is current",
               {{"backend", backendName_}, {"migrations", static_cast<std::int64_t>(migrations_.size())}});
}

void SessionPool::abandonMigrations(Poco::Data::Session& session) noexcept {
  try {
    backend_->endMigrations(session, false);
  } catch (...) {
    // the connection is closed right after
  }
}

void SessionPool::translateFailure(SessionLease& lease, const Poco::Exception& failure) {
  switch (backend_->classify(failure, lease.session())) {
    case StorageFailure::ConnectionLost:
      lease.discard();
      throw StorageUnavailable(failure.displayText());
    case StorageFailure::Busy:
      throw StorageUnavailable(failure.displayText());
    case StorageFailure::UniqueViolation:
      throw UniqueViolation(failure.displayText());
    case StorageFailure::OutOfDiskSpace:
      throw StorageUnavailable(DatabaseShortage::DiskSpace, failure.displayText());
    case StorageFailure::DiskIoError:
      lease.discard();
      throw StorageUnavailable(DatabaseShortage::DiskIo, failure.displayText());
    case StorageFailure::OutOfMemory:
      throw StorageUnavailable(DatabaseShortage::Memory, failure.displayText());
    case StorageFailure::Other:
      // Whatever it is (a schema another version changed, a pooler that lost a prepared
      // statement), the client can do nothing but retry later; the cause is logged.
      throw StorageUnavailable(failure.displayText(), "The database refused the statement; retry later");
  }
}

}  // namespace svc
