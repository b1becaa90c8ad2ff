#include "session_pool.h"

#include <algorithm>

#include "svc/context.h"

namespace svc {

namespace {

using Clock = std::chrono::steady_clock;

std::int64_t ticks(Clock::time_point time) { return time.time_since_epoch().count(); }

constexpr Sql kSelectOne{"select_one", "SELECT 1"};
constexpr std::chrono::milliseconds kLostSessionRetryPause{100};

constexpr const char* kOutcomeUnknown =
    "The connection to the database failed while the change was being stored, and whether it was could "
    "not be seen: it may exist. Check before retrying.";

StorageUnavailable shortage(const DatabaseError& failure) {
  switch (failure.kind()) {
    case StorageFailure::OutOfDiskSpace:
      return StorageUnavailable(
          failure.what(),
          "The database's disk is full: nothing can be stored until space is freed; reading still works. Retry later",
          std::chrono::seconds(30));
    case StorageFailure::DiskIoError:
      return StorageUnavailable(failure.what(), "The database's disk reports input/output errors; retry later",
                                std::chrono::seconds(30));
    case StorageFailure::OutOfMemory:
      return StorageUnavailable(failure.what(), "The database server is out of memory; retry later",
                                std::chrono::seconds(5));
    case StorageFailure::TooManyConnections:
      return StorageUnavailable(failure.what(),
                                "The database server accepts no more connections (too many clients); retry later",
                                std::chrono::seconds(5));
    default:
      return StorageUnavailable(failure.what());
  }
}

bool isShortage(StorageFailure kind) {
  return kind == StorageFailure::OutOfDiskSpace || kind == StorageFailure::DiskIoError ||
         kind == StorageFailure::OutOfMemory || kind == StorageFailure::TooManyConnections;
}

}  // namespace

namespace detail {
LeasedConnection::~LeasedConnection() { pool_.giveBack(std::move(pooled_), reusable_); }
}  // namespace detail

SessionPool::SessionPool(std::unique_ptr<StorageBackend> backend, PoolSettings settings, const Logger& logger)
    : backend_(std::move(backend)),
      backendName_(backend_->name()),
      settings_(std::move(settings)),
      migrations_(findPluginMigrations(settings_.migrationsRoot, settings_.schemas, backendName_)),
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

// The statement timeout plus a grace from now, or the end of the current request's budget.
Deadline SessionPool::workDeadline() const {
  Deadline deadline = settings_.statementTimeout.count() == 0 ? Deadline::max()
                                                              : Clock::now() + settings_.statementTimeout + kDeadlineGrace;
  if (const auto& request = currentRequest()) deadline = std::min(deadline, request->deadline);
  return deadline;
}

SessionLease SessionPool::acquireUntil(Deadline deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  if (left.count() <= 0) throw StorageUnavailable("the deadline passed before a database connection was asked for");
  return SessionLease(leaseWithin(std::min(settings_.acquireTimeout, left), std::min(deadline, workDeadline())));
}

void SessionPool::runUnit(Deadline deadline, const std::function<void(SessionLease&)>& work) {
  SessionLease lease = acquireUntil(deadline);
  detail::LeasedConnection& leased = lease.connection();
  try {
    if (anyLost_.load(std::memory_order_relaxed)) endLostSessions(lease);
    work(lease);
  } catch (const DatabaseError& failure) {
    translate(leased, failure);
  }
}

// Throws what `failure` means to the caller.
void SessionPool::translate(detail::LeasedConnection& leased, const DatabaseError& failure) {
  PooledConnection& pooled = leased.pooled();
  if (pooled.abortStage.load() > 0 || failure.kind() == StorageFailure::ConnectionLost) {
    leased.discard();
    const std::string cause = pooled.abortStage.load() > 0
                                  ? std::string("no answer from the database before the deadline; ") + failure.what()
                                  : failure.what();
    throw LostWork(cause, pooled.serverSession);
  }
  switch (failure.kind()) {
    case StorageFailure::Busy:
      throw StorageUnavailable(failure.what());
    case StorageFailure::UniqueViolation:
      throw UniqueViolation(failure.what());
    case StorageFailure::DiskIoError:
      leased.discard();
      throw shortage(failure);
    case StorageFailure::Other:
      // Whatever it is (a schema another version changed, a bug), the client can do nothing but
      // retry later; the cause is logged.
      throw StorageUnavailable(failure.what(), "The database refused the statement; retry later");
    default:
      throw shortage(failure);
  }
}

void SessionPool::runWriteOnce(Deadline deadline, const std::function<void(SessionLease&)>& write,
                               const std::function<bool(SessionLease&)>& check) {
  try {
    runUnit(deadline, write);
  } catch (const LostWork& lost) {
    const std::optional<bool> stored = settle(lost, std::min(deadline, workDeadline()) + kSettleAllowance, check);
    if (stored == true) return;
    if (stored == false) {
      if (lost.endVisible()) throw StorageUnavailable("the write was not stored: " + lost.cause());
      logger_.warning("Outcome of a write unknown: it is not stored yet, and its connection went through a pooler, "
                      "which hides whether it can still commit",
                      {{"cause", lost.cause()}});
      throw OutcomeUnknown(kOutcomeUnknown);
    }
    if (lost.endVisible() && !lost.lostSession().empty()) {
      std::lock_guard lock(lostMutex_);
      lostSessions_.push_back(lost.lostSession());
      anyLost_ = true;
    }
    logger_.warning("Outcome of a write unknown: the database did not come back in time", {{"cause", lost.cause()}});
    throw OutcomeUnknown(kOutcomeUnknown);
  }
}

// What `check` sees of the lost work once nothing it ran can still commit (its server session
// has ended), or at once where that end can never be seen (kUnknowableSession: behind a pooler);
// nothing when the database stayed out of reach until `deadline`.
std::optional<bool> SessionPool::settle(const LostWork& lost, Deadline deadline,
                                        const std::function<bool(SessionLease&)>& check) {
  while (true) {
    std::optional<bool> stored;
    try {
      if (!lost.endVisible() || awaitEnd(lost.lostSession(), deadline)) {
        runUnit(deadline, [&](SessionLease& lease) { stored = check(lease); });
      }
    } catch (const StorageUnavailable&) {
    }
    if (stored) return stored;
    const auto pause = std::min<Clock::duration>(kLostSessionRetryPause, deadline - Clock::now());
    if (pause.count() <= 0) return std::nullopt;
    std::this_thread::sleep_for(pause);
  }
}

// Ends what lost work may still hold on the server, without waiting: one statement per session,
// on the lease of whoever comes next.
void SessionPool::endLostSessions(SessionLease& lease) {
  std::vector<std::string> lost;
  {
    std::lock_guard lock(lostMutex_);
    lost.swap(lostSessions_);
    anyLost_ = false;
  }
  std::vector<std::string> remaining;
  for (const std::string& session : lost) {
    try {
      if (!backend_->awaitEnded(lease.connection().connection(), session, std::chrono::milliseconds(0))) {
        remaining.push_back(session);
      }
    } catch (const DatabaseError&) {
      remaining.push_back(session);
    }
  }
  if (remaining.empty()) return;
  std::lock_guard lock(lostMutex_);
  lostSessions_.insert(lostSessions_.end(), remaining.begin(), remaining.end());
  anyLost_ = true;
}

bool SessionPool::awaitEnd(const std::string& lostSession, Deadline deadline) {
  if (lostSession.empty()) return true;  // no server-side session: the outcome was final when the call returned
  return withSessionUntil(deadline, [&](SessionLease& lease) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    return left.count() > 0 && backend_->awaitEnded(lease.connection().connection(), lostSession, left);
  });
}

void SessionPool::ensureSchema() {
  if (schemaReady_.load(std::memory_order_acquire)) return;
  try {
    prepareSchema();
  } catch (const MigrationError& error) {
    logger_.error("Database schema migration failed", {{"reason", error.what()}});
    throw StorageUnavailable(error.what());
  }
}

// A lease whose work must end by `workDeadline`; the time spent here counts against it.
std::unique_ptr<detail::LeasedConnection> SessionPool::leaseWithin(std::chrono::milliseconds wait,
                                                                   Deadline workDeadline) {
  ensureSchema();
  const Clock::time_point deadline = Clock::now() + wait;  // for the whole acquisition, dead connections included
  while (true) {
    std::unique_ptr<PooledConnection> connection = takeIdleOrReserve(deadline, wait);
    if (!connection) return lease(connectNew(deadline), workDeadline);
    if (connection->connection->isAlive()) return lease(std::move(connection), workDeadline);
    logger_.debug("Dropped a database connection the server had closed", {{"backend", backendName_}});
    connection.reset();
    releaseSlot();
  }
}

std::unique_ptr<detail::LeasedConnection> SessionPool::lease(std::unique_ptr<PooledConnection> connection,
                                                             Deadline workDeadline) {
  watch(*connection, workDeadline);
  return std::make_unique<detail::LeasedConnection>(*this, std::move(connection), backendName_);
}

// A new connection in the slot just reserved; the slot is released when it cannot be had.
std::unique_ptr<PooledConnection> SessionPool::connectNew(Deadline acquireDeadline) {
  try {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(acquireDeadline - Clock::now());
    return connect(std::max(left, std::chrono::milliseconds(1)));
  } catch (...) {
    releaseSlot();
    throw;
  }
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
// that was under way succeeds: then the database is back, whatever the order they end in. A
// database that is locked (SQLite) or short of a resource is there: no back-off.
std::unique_ptr<PooledConnection> SessionPool::connect(std::chrono::milliseconds timeout) {
  const std::int64_t attemptStart = ticks(Clock::now());
  if (attemptStart < nextConnectAttempt_.load(std::memory_order_relaxed)) {
    throw StorageUnavailable("the database was unreachable moments ago");
  }
  try {
    auto connection = std::make_unique<PooledConnection>(backend_->connect(timeout));
    lastConnected_.store(ticks(Clock::now()), std::memory_order_relaxed);
    nextConnectAttempt_.store(0, std::memory_order_relaxed);
    if (!reachable_.exchange(true)) logger_.info("Database reachable again", {{"backend", backendName_}});
    return connection;
  } catch (const DatabaseError& failure) {
    if (failure.kind() == StorageFailure::Busy) throw StorageUnavailable(failure.what());
    if (isShortage(failure.kind())) throw shortage(failure);
    if (lastConnected_.load(std::memory_order_relaxed) < attemptStart) {
      nextConnectAttempt_.store(ticks(Clock::now() + settings_.reconnectBackoff), std::memory_order_relaxed);
      if (reachable_.exchange(false)) {
        logger_.warning("Database unreachable", {{"backend", backendName_}, {"reason", failure.what()}});
      }
    }
    throw StorageUnavailable(failure.what());
  }
}

void SessionPool::releaseSlot() noexcept {
  {
    std::lock_guard lock(mutex_);
    --open_;
  }
  released_.notify_one();
}

// A connection left in a transaction is rolled back; one that was cancelled, cut or found broken
// is closed (which sends nothing: see StorageConnection).
void SessionPool::giveBack(std::unique_ptr<PooledConnection> connection, bool reusable) noexcept {
  unwatch(*connection);
  if (connection->abortStage.load() > 0) reusable = false;  // cancelled or cut: its state is unknown
  try {
    if (reusable && connection->connection->inTransaction()) connection->connection->runScript("ROLLBACK");
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
  // The work ends a little before `wait`, so that the answer is sent within it.
  const auto work = wait - std::min<std::chrono::milliseconds>(std::chrono::milliseconds(50), wait / 10);
  try {
    runUnit(Clock::now() + work, [](SessionLease& lease) { lease.run(kSelectOne, {}); });
  } catch (const StorageUnavailable&) {
    if (!busyButReachable()) throw;
  }
}

bool SessionPool::busyButReachable() const {
  std::lock_guard lock(mutex_);
  return idle_.empty() && open_ >= settings_.size && reachable_.load();
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
  applyPendingMigrations(*connection->connection);
  schemaReady_.store(true, std::memory_order_release);
}

void SessionPool::warmUp(std::size_t count) {
  count = std::min(count, settings_.size);
  const Clock::time_point deadline = Clock::now() + settings_.acquireTimeout;  // for all of them
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return;
    {
      std::lock_guard lock(mutex_);
      if (open_ >= count) return;
      ++open_;
    }
    std::unique_ptr<PooledConnection> connection;
    try {
      connection = connect(left);
    } catch (const std::exception&) {  // the requests will try again
      releaseSlot();
      return;
    }
    giveBack(std::move(connection), true);
  }
}

// All pending migrations in one transaction that holds the backend's migration lock: instances
// starting together wait for each other, and the second finds everything recorded. A failure
// the database may get over (connection lost, lock timeout, a conflict) is retried by the next
// request that needs the schema; one it will not (a broken migration) is a MigrationError.
void SessionPool::applyPendingMigrations(StorageConnection& connection) {
  PendingMigrations migrations;
  std::string step = "taking the migration lock";
  try {
    backend_->beginMigrations(connection);
    step = "reading plugin_migrations";
    migrations = pendingMigrations(connection, migrations_);
    for (const Migration& migration : migrations.pending) {
      step = "migration " + migration.plugin + "/" + migration.name;
      applyMigration(connection, migration);
    }
    step = "committing the migrations";
    connection.runScript("COMMIT");
  } catch (const DatabaseError& failure) {
    if (failure.kind() != StorageFailure::Other) {
      logger_.warning("Database schema migration interrupted; retried when next needed",
                      {{"backend", backendName_}, {"step", step}, {"reason", failure.what()}});
      throw StorageUnavailable(step + " failed: " + failure.what());
    }
    throw MigrationError(step + " failed: " + failure.what());
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

// --- deadlines --------------------------------------------------------------------------------

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

// The watchdog only makes system calls that return at once (a cancel request goes on a thread
// of its own): it never waits on the database, so every deadline fires in time.
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
      connection->connection->cancel();
    }
    if (stage < 2 && now >= connection->deadline) {
      connection->abortStage.store(2);
      connection->connection->sever();
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

// Only severed here, never closed: a severed connection is found dead (isAlive) and closed by
// whichever request next takes it.
void SessionPool::severIdleConnections() noexcept {
  std::lock_guard lock(mutex_);
  for (const auto& connection : idle_) connection->connection->sever();
}

}  // namespace svc
