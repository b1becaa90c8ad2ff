#include "session_pool.h"

#include <algorithm>

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
      migrations_(findPluginMigrations(settings_.migrationsRoot, settings_.schemaPlugins, backendName_)),
      logger_(logger),
      watchdog_([this] { watchDeadlines(); }) {}

SessionPool::~SessionPool() {
  {
    std::lock_guard lock(watchMutex_);
    stopping_ = true;
  }
  watchChanged_.notify_one();
  watchdog_.join();
}

std::chrono::milliseconds SessionPool::workTimeout() const {
  return settings_.statementTimeout.count() == 0 ? std::chrono::hours(24) : settings_.statementTimeout + kDeadlineGrace;
}

Deadline SessionPool::workDeadlineFrom(Clock::time_point start) const {
  if (settings_.statementTimeout.count() == 0) return Deadline::max();
  return start + workTimeout();
}

SessionLease SessionPool::acquire() {
  const Clock::time_point now = Clock::now();
  return acquireWithin(settings_.acquireTimeout, workDeadlineFrom(now));
}

SessionLease SessionPool::acquireUntil(Deadline deadline) {
  const Clock::time_point now = Clock::now();
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
  if (left.count() <= 0) throw StorageUnavailable("the deadline passed before a database connection was asked for");
  return acquireWithin(std::min(settings_.acquireTimeout, left), std::min(deadline, workDeadlineFrom(now)));
}

// A lease whose work must end by `workDeadline`; the time spent here counts against it.
SessionLease SessionPool::acquireWithin(std::chrono::milliseconds wait, Deadline workDeadline) {
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
    if (!connection) return leaseNew(deadline, workDeadline);
    if (backend_->isAlive(connection->session)) {
      watch(*connection, workDeadline);
      return lease(std::move(connection));
    }
    logger_.debug("Dropped a database connection the server had closed", {{"backend", backendName_}});
    close(std::move(connection));
    releaseSlot();
  }
}

// A new connection in the slot just reserved, leased; the slot is released when it cannot be had.
SessionLease SessionPool::leaseNew(Deadline acquireDeadline, Deadline workDeadline) {
  std::unique_ptr<PooledConnection> connection;
  try {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(acquireDeadline - Clock::now());
    connection = connect(std::max(left, std::chrono::milliseconds(1)));
  } catch (...) {
    releaseSlot();
    throw;
  }
  watch(*connection, workDeadline);
  try {  // under the deadline: a database that stops answering now is cut like any other
    connection->serverSession = backend_->identify(connection->session);
  } catch (const Poco::Exception& failure) {
    unwatch(*connection);
    close(std::move(connection));
    releaseSlot();
    throw StorageUnavailable("cannot identify a new database session: " + failure.displayText());
  }
  return lease(std::move(connection));
}

// A watched lease of `connection`, in a transaction of its own where the backend asks for one
// (behind a transaction-mode pooler): opening it is database work under the same deadline.
SessionLease SessionPool::lease(std::unique_ptr<PooledConnection> connection) {
  try {
    connection->leaseTransaction = backend_->beginLease(connection->session);
  } catch (const Poco::Exception& failure) {
    unwatch(*connection);
    close(std::move(connection));
    releaseSlot();
    throw StorageUnavailable(failure.displayText());
  }
  return SessionLease(std::move(connection), *this);
}

void SessionPool::finishLease(PooledConnection& connection) {
  if (connection.leaseTransaction) endLeaseTransaction(connection, true);
}

// The statements go first, inside the transaction they were prepared in.
void SessionPool::endLeaseTransaction(PooledConnection& connection, bool commit) {
  connection.prepared.clear();
  connection.leaseTransaction = false;
  backend_->endLeaseTransaction(connection.session, commit);
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

// A failed connect makes the next ones fail fast for reconnectBackoff, unless another connect
// that was under way succeeds: then the database is back, whatever the order they end in.
std::unique_ptr<PooledConnection> SessionPool::connect(std::chrono::milliseconds timeout) {
  const std::int64_t attemptStart = ticks(Clock::now());
  if (attemptStart < nextConnectAttempt_.load(std::memory_order_relaxed)) {
    throw StorageUnavailable("the database was unreachable moments ago");
  }
  try {
    auto connection = std::make_unique<PooledConnection>(backend_->connect(timeout), "");
    lastConnected_.store(ticks(Clock::now()), std::memory_order_relaxed);
    nextConnectAttempt_.store(0, std::memory_order_relaxed);
    if (!reachable_.exchange(true)) logger_.info("Database reachable again", {{"backend", backendName_}});
    return connection;
  } catch (const Poco::Exception& failure) {
    if (lastConnected_.load(std::memory_order_relaxed) < attemptStart) {
      nextConnectAttempt_.store(ticks(Clock::now() + settings_.reconnectBackoff), std::memory_order_relaxed);
      if (reachable_.exchange(false)) {
        logger_.warning("Database unreachable", {{"backend", backendName_}, {"reason", failure.displayText()}});
      }
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
  unwatch(*connection);
  if (connection->abortStage.load() > 0) reusable = false;  // cancelled or cut: its state is unknown
  try {
    if (reusable && connection->session.isTransaction()) connection->session.rollback();
    if (reusable && connection->leaseTransaction) endLeaseTransaction(*connection, false);
  } catch (...) {
    reusable = false;
  }
  if (!reusable) {
    close(std::move(connection));
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
  // The work ends a little before `wait`, so that the answer is sent within it.
  const std::chrono::milliseconds work = wait - std::min<std::chrono::milliseconds>(std::chrono::milliseconds(50), wait / 10);
  SessionLease lease = acquireWithin(work, Clock::now() + work);
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
  std::unique_ptr<PooledConnection> connection = connect(settings_.acquireTimeout);
  applyPendingMigrations(connection->session);
  schemaReady_.store(true, std::memory_order_release);
}

// All pending migrations in one transaction that holds the backend's migration lock: instances
// starting together wait for each other, and the second finds everything recorded. A failure
// the database may get over (connection lost, lock timeout, a conflict) is retried by the next
// request that needs the schema; one it will not (a broken migration) is a MigrationError.
void SessionPool::applyPendingMigrations(Poco::Data::Session& session) {
  PendingMigrations migrations;
  std::string step = "taking the migration lock";
  try {
    backend_->beginMigrations(session);
    step = "reading plugin_migrations";
    migrations = pendingMigrations(session, migrations_);
    for (const Migration& migration : migrations.pending) {
      step = "migration " + migration.plugin + "/" + migration.name;
      applyMigration(session, migration);
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
  for (const Migration& migration : migrations.adopted) {
    logger_.info("Adopted a migration recorded in schema_migrations",
                 {{"plugin", migration.plugin}, {"migration", migration.name}, {"backend", backendName_}});
  }
  for (const Migration& migration : migrations.pending) {
    logger_.info("Applied database migration",
                 {{"plugin", migration.plugin}, {"migration", migration.name}, {"backend", backendName_}});
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
  if (lease.aborted()) {
    lease.discard();
    throw WorkInterrupted("no answer from the database before the deadline; " + failure.displayText(),
                          lease.serverSession());
  }
  switch (backend_->classify(failure, lease.session())) {
    case StorageFailure::ConnectionLost:
      lease.discard();
      throw WorkInterrupted(failure.displayText(), lease.serverSession());
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

bool SessionPool::awaitEnd(const std::string& lostSession, Deadline deadline) {
  if (lostSession.empty()) return true;  // no server-side session: the outcome was final when the call returned
  return withSessionUntil(deadline, [&](SessionLease& lease) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    return left.count() > 0 && backend_->awaitEnded(lease.session(), lostSession, left);
  });
}

void SessionPool::watch(PooledConnection& connection, Deadline workDeadline) {
  const Clock::time_point now = Clock::now();
  const auto cancelAhead = std::min<Clock::duration>(std::chrono::milliseconds(250), (workDeadline - now) / 4);
  connection.deadline = workDeadline;
  connection.cancelAt = workDeadline == Deadline::max() ? workDeadline : workDeadline - cancelAhead;
  connection.abortStage.store(0);
  bool sooner = false;
  {
    std::lock_guard lock(watchMutex_);
    leased_.push_back(&connection);
    sooner = connection.cancelAt < nextCheck_;
    if (sooner) nextCheck_ = connection.cancelAt;
  }
  if (sooner) watchChanged_.notify_one();
}

void SessionPool::unwatch(PooledConnection& connection) noexcept {
  std::lock_guard lock(watchMutex_);
  const auto it = std::find(leased_.begin(), leased_.end(), &connection);
  if (it == leased_.end()) return;
  *it = leased_.back();
  leased_.pop_back();
}

void SessionPool::watchDeadlines() {
  std::unique_lock lock(watchMutex_);
  while (!stopping_) {
    const Deadline target = nextCheck_;
    const auto changed = [&] { return stopping_ || nextCheck_ != target; };
    if (target == Deadline::max()) {
      watchChanged_.wait(lock, changed);
      continue;
    }
    if (watchChanged_.wait_until(lock, target, changed)) continue;  // stopping, or a sooner deadline
    nextCheck_ = abortDue(Clock::now());
    if (nextCheck_ == Deadline::min()) {  // a connection was cut: its idle siblings share its path
      severIdleConnections();
      nextCheck_ = Clock::now();  // look again, leases may have come and gone meanwhile
    }
  }
}

// Cancels or cuts the leased connections whose time has come (the caller holds watchMutex_, so
// none can be given back meanwhile). Returns when to look next, Deadline::min() after a cut.
Deadline SessionPool::abortDue(Clock::time_point now) {
  Deadline next = Deadline::max();
  bool cut = false;
  for (PooledConnection* connection : leased_) {
    const int stage = connection->abortStage.load();
    if (stage == 0 && now >= connection->cancelAt) {
      connection->abortStage.store(1);
      backend_->cancel(connection->session);
    }
    if (stage < 2 && now >= connection->deadline) {
      connection->abortStage.store(2);
      backend_->sever(connection->session);
      cut = true;
      logger_.warning("Cut a database connection that did not answer before its deadline",
                      {{"backend", backendName_}});
    }
    const int after = connection->abortStage.load();
    if (after == 0) next = std::min(next, connection->cancelAt);
    if (after == 1) next = std::min(next, connection->deadline);
  }
  return cut ? Deadline::min() : next;
}

// Only severed here (a system call that returns at once), never closed: closing a PostgreSQL
// session that holds prepared statements talks to the server, which a silent link would hold
// until it heals, and no other deadline fires while the watchdog waits. A severed connection
// is found dead (isAlive) and closed by whichever request next takes it.
void SessionPool::severIdleConnections() noexcept {
  std::lock_guard lock(mutex_);
  for (const auto& connection : idle_) backend_->sever(connection->session);
}

void SessionPool::close(std::unique_ptr<PooledConnection> connection) noexcept {
  try {
    const std::function<void()> afterwards = backend_->closing(connection->session);
    connection.reset();
    if (afterwards) afterwards();
  } catch (...) {  // closing a broken connection must not fail its request
  }
}

}  // namespace svc
