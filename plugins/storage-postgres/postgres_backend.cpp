// The production backend: connections opened through POCO Data, statements run with libpq.
//
// Each statement is one round trip. On a direct connection a statement is prepared once per
// connection, under a name of its own, and then only executed. Behind a transaction-mode pooler
// (PgBouncer pool_mode = transaction, `pooler = transaction`) a name prepared on one server
// connection may be missing on the next, so every statement goes unnamed (Parse, Bind, Execute
// in one message): POCO 1.11 could do neither (it prepares, describes and executes in three
// round trips, then DEALLOCATEs in a fourth).
#include <dlfcn.h>
#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <libpq-fe.h>

#include <Poco/Data/PostgreSQL/Connector.h>
#include <Poco/Data/PostgreSQL/SessionImpl.h>
#include <Poco/Exception.h>

#include "svc/storage_plugin.h"

namespace {

namespace postgres = Poco::Data::PostgreSQL;
using Clock = std::chrono::steady_clock;
using svc::StorageFailure;

constexpr svc::Setting kSettings[] = {
    svc::Setting::text("connection", "",
                       "libpq key=value pairs (host=... port=... dbname=... user=...); a postgresql:// URI is "
                       "not accepted. Never logged in full; a password may come from PGPASSWORD instead"),
    svc::Setting::choice("pooler", "none", "none|transaction",
                         "transaction when `connection` names a pooler in transaction mode (PgBouncer "
                         "pool_mode = transaction): statements then run unnamed, one round trip each"),
};

svc::SettingsSchema settingsSchema() { return kSettings; }

// Cancel requests waiting for an answer at most; past it the connection is only cut.
constexpr int kMaxCancelsInFlight = 8;

// The server-side session as "pid:backend start in microseconds" (a pid alone may be reused by a
// later session), and the pid the server says it runs as: behind a pooler it is not the one the
// connection was given at start-up.
constexpr const char* kIdentifySql =
    "SELECT pid::text || ':' || (extract(epoch FROM backend_start) * 1000000)::bigint::text, pid "
    "FROM pg_stat_activity WHERE pid = pg_backend_pid()";

// Ends the session $1 ("pid:start") if it still runs, waiting up to $2 ms: true when it is gone.
constexpr svc::Statement kAwaitEnded{
    "await_ended",
    "SELECT COALESCE(bool_and(pg_terminate_backend(pid, $2::bigint)), true) FROM pg_stat_activity "
    "WHERE pid = split_part($1, ':', 1)::int "
    "AND (extract(epoch FROM backend_start) * 1000000)::bigint::text = split_part($1, ':', 2)"};

// The key of the advisory lock migrations hold (a fixed number other applications do not use).
constexpr std::int64_t kMigrationLock = 0x6f72646572730001;  // "orders", 1

StorageFailure failureOfState(std::string_view state) {
  if (state == "23505") return StorageFailure::UniqueViolation;
  if (state == "53100") return StorageFailure::OutOfDiskSpace;
  if (state == "53200") return StorageFailure::OutOfMemory;
  if (state == "53300") return StorageFailure::TooManyConnections;
  // serialization, deadlock, lock not available, statement timeout or cancel
  if (state == "40001" || state == "40P01" || state == "55P03" || state == "57014") return StorageFailure::Busy;
  // connection exceptions, and the server shutting down or terminating the session
  if (state.starts_with("08") || state.starts_with("57P")) return StorageFailure::ConnectionLost;
  return StorageFailure::Other;
}

// At connection time libpq gives the server's message, not its SQLSTATE: these are the texts of
// 53300 too_many_connections and 53200 out_of_memory (in the server's lc_messages, English by default).
StorageFailure failureAtConnect(const std::string& message) {
  for (const char* text : {"too many clients", "too many connections", "remaining connection slots are reserved"}) {
    if (message.find(text) != std::string::npos) return StorageFailure::TooManyConnections;
  }
  if (message.find("out of memory") != std::string::npos) return StorageFailure::OutOfMemory;
  return StorageFailure::ConnectionLost;
}

// Whether `socket` becomes ready for `events` before `deadline` (false also when it cannot be polled).
bool readyBy(int socket, short events, Clock::time_point deadline) {
  while (true) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    pollfd polled{.fd = socket, .events = events, .revents = 0};
    const int ready = poll(&polled, 1, static_cast<int>(left.count()));
    if (ready > 0) return true;
    if (ready < 0 && errno != EINTR) return false;
  }
}

// Whether a connection attempt of libpq's non-blocking API succeeds by `deadline` (libpq's own
// connect_timeout is 2 s at least, and only for the blocking calls).
bool connectsBy(PGconn* attempt, Clock::time_point deadline) {
  PostgresPollingStatusType status = PGRES_POLLING_WRITING;
  while (PQstatus(attempt) != CONNECTION_BAD && status != PGRES_POLLING_OK && status != PGRES_POLLING_FAILED) {
    if (!readyBy(PQsocket(attempt), status == PGRES_POLLING_READING ? POLLIN : POLLOUT, deadline)) return false;
    status = PQconnectPoll(attempt);
  }
  return status == PGRES_POLLING_OK;
}

// The connect under way on this thread: its deadline, the attempt libpq made for it (POCO 1.11
// neither frees a failed one nor says why it failed when it timed out) and whether it timed out.
struct ConnectAttempt {
  Clock::time_point deadline;
  PGconn* made = nullptr;
  bool timedOut = false;
};

// The connects under way, by thread. Not a thread_local: with one here, LeakSanitizer's exit-time
// scan crashed (signal 11 in its tracer) in every in-process storage test.
class ConnectsUnderWay {
 public:
  ConnectAttempt* ofThisThread() {
    std::lock_guard lock(mutex_);
    const auto it = attempts_.find(std::this_thread::get_id());
    return it == attempts_.end() ? nullptr : it->second;
  }

  /// Makes `attempt` this thread's while it lives.
  class Scope {
   public:
    Scope(ConnectsUnderWay& all, ConnectAttempt& attempt) : all_(all) {
      std::lock_guard lock(all_.mutex_);
      all_.attempts_[std::this_thread::get_id()] = &attempt;
    }
    ~Scope() {
      std::lock_guard lock(all_.mutex_);
      all_.attempts_.erase(std::this_thread::get_id());
    }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    ConnectsUnderWay& all_;
  };

 private:
  std::mutex mutex_;
  std::map<std::thread::id, ConnectAttempt*> attempts_;
};
ConnectsUnderWay connectsUnderWay;
std::atomic<bool> connectsInterposed{false};

}  // namespace

// POCO 1.11 opens a session with libpq's blocking PQconnectdb, which only connect_timeout bounds
// (whole seconds, 2 at least, 60 when unset): a network that fell silent during the handshake held
// the request's thread until it healed. POCO's library finds this definition before libpq's (the
// plugin heads its own RTLD_LOCAL group; libpq is a dependency of both), and makes the same attempt
// with libpq's non-blocking API, ended at the deadline of the connect that asked for it.
extern "C" __attribute__((visibility("default"))) PGconn* PQconnectdb(const char* conninfo) {
  ConnectAttempt* attempt = connectsUnderWay.ofThisThread();
  if (attempt == nullptr) {  // not one of ours: libpq's own
    using Connect = PGconn* (*)(const char*);
    static const auto libpqConnect = reinterpret_cast<Connect>(dlsym(RTLD_NEXT, "PQconnectdb"));
    return libpqConnect(conninfo);
  }
  connectsInterposed.store(true, std::memory_order_relaxed);
  attempt->made = PQconnectStart(conninfo);
  if (attempt->made == nullptr) return nullptr;
  attempt->timedOut = !connectsBy(attempt->made, attempt->deadline) && PQstatus(attempt->made) != CONNECTION_BAD;
  return attempt->made;
}

namespace {

PGconn* connectionOf(Poco::Data::Session& session) {
  auto* impl = dynamic_cast<postgres::SessionImpl*>(session.impl());
  return impl ? static_cast<PGconn*>(impl->handle()) : nullptr;
}

// The keys and values of a libpq connection string that POCO passes on intact: it splits the
// string at spaces and '=' itself, even inside quotes.
std::map<std::string, std::string> parseConnection(const std::string& connection) {
  if (connection.find("://") != std::string::npos) {
    throw svc::SettingError("storage-postgres.connection must be libpq key=value pairs (host=... dbname=...); "
                            "POCO does not accept a postgresql:// URI");
  }
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(connection.c_str(), &error);
  if (options == nullptr) {
    PQfreemem(error);
    throw svc::SettingError("storage-postgres.connection is not a libpq key=value connection string");
  }
  std::map<std::string, std::string> values;
  for (PQconninfoOption* option = options; option->keyword != nullptr; ++option) {
    if (option->val != nullptr) values[option->keyword] = option->val;
  }
  PQconninfoFree(options);
  for (const auto& [key, value] : values) {
    if (value.empty()) {
      throw svc::SettingError("storage-postgres.connection: " + key + " has no value; leave the key out instead");
    }
    if (value.find_first_of(" \t'\"=\\") != std::string::npos) {
      throw svc::SettingError("storage-postgres.connection: the value of " + key +
                              " has a space, quote, '=' or backslash, which POCO cannot pass on;"
                              " give such a password in PGPASSWORD instead");
    }
  }
  return values;
}

// host, port, dbname and user of a connection: what may be logged of it.
std::string describe(std::map<std::string, std::string> values) {
  std::string described;
  for (const char* key : {"host", "port", "dbname", "user"}) {
    if (!values.contains(key)) continue;
    if (!described.empty()) described += ' ';
    described.append(key).append("=").append(values[key]);
  }
  return described;
}

// The settings of a direct session. Behind a transaction pooler none would stick: timestamps are
// then read with whatever offset the server prints, and only the service's own deadline holds.
std::string sessionSettings(std::chrono::milliseconds statementTimeout) {
  return "SET TIME ZONE 'UTC'; SET datestyle TO ISO; SET statement_timeout TO " +
         std::to_string(statementTimeout.count());
}

/// A libpq result, cleared when replaced or destroyed, read as text columns.
class PostgresResult final : public svc::SqlResult {
 public:
  PostgresResult() = default;
  PostgresResult(const PostgresResult&) = delete;
  PostgresResult& operator=(const PostgresResult&) = delete;
  ~PostgresResult() { PQclear(result_); }

  void reset(PGresult* result) {
    PQclear(result_);
    result_ = result;
  }

  std::size_t rows() const override { return static_cast<std::size_t>(PQntuples(result_)); }
  std::size_t affected() const override {
    const char* count = PQcmdTuples(result_);
    std::size_t value = 0;
    std::from_chars(count, count + std::char_traits<char>::length(count), value);
    return value;
  }
  bool isNull(std::size_t row, std::size_t column) const override {
    return PQgetisnull(result_, static_cast<int>(row), static_cast<int>(column)) != 0;
  }
  std::int64_t integer(std::size_t row, std::size_t column) const override {
    const std::string_view value = text(row, column);
    if (value == "t" || value == "f") return value == "t";  // a boolean column
    std::int64_t number = 0;
    const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), number);
    if (error != std::errc() || end != value.data() + value.size()) {
      throw std::runtime_error("column " + std::to_string(column) + " is not an integer: " + std::string(value));
    }
    return number;
  }
  double real(std::size_t row, std::size_t column) const override { return std::stod(std::string(text(row, column))); }
  std::string_view text(std::size_t row, std::size_t column) const override {
    const int r = static_cast<int>(row);
    const int c = static_cast<int>(column);
    return {PQgetvalue(result_, r, c), static_cast<std::size_t>(PQgetlength(result_, r, c))};
  }

 private:
  PGresult* result_ = nullptr;
};

// A cancel's thread outlives the backend that started it and runs this library's code: were the
// host to unload the library meanwhile (at exit, or a test's pool going away), the thread would
// crash. Once a cancel was sent, the library stays loaded until the process ends.
void keepThisLibraryLoaded() {
  static const bool pinned = [] {
    Dl_info self{};
    if (dladdr(reinterpret_cast<void*>(&keepThisLibraryLoaded), &self) == 0 || self.dli_fname == nullptr) return false;
    return dlopen(self.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE) != nullptr;
  }();
  (void)pinned;
}

/// What every connection of a backend shares.
struct Shared {
  std::string connection;
  std::atomic<bool> unnamedStatements;  ///< behind a transaction pooler, said or found
  const svc::Logger& logger;
  std::chrono::milliseconds statementTimeout;
  std::shared_ptr<std::atomic<int>> cancelsInFlight = std::make_shared<std::atomic<int>>(0);
  std::atomic<bool> poolerReported{false};
};

/// The text parameters of one statement: integers and arrays are written out here, text is viewed.
class TextParameters {
 public:
  explicit TextParameters(std::span<const svc::SqlValue> values) {
    owned_.reserve(values.size());
    for (const svc::SqlValue& value : values) add(value);
    for (std::size_t i = 0; i < values_.size(); ++i) {
      if (ownedAt_[i] >= 0) values_[i] = owned_[static_cast<std::size_t>(ownedAt_[i])].c_str();
    }
  }
  int count() const { return static_cast<int>(values_.size()); }
  const char* const* values() const { return values_.data(); }
  const int* lengths() const { return lengths_.data(); }

 private:
  void add(const svc::SqlValue& value) {
    if (std::holds_alternative<std::nullptr_t>(value)) return push(nullptr, 0);
    if (const auto* text = std::get_if<std::string_view>(&value)) {
      return push(text->data(), static_cast<int>(text->size()));
    }
    std::string written;
    if (const auto* number = std::get_if<std::int64_t>(&value)) {
      written = std::to_string(*number);
    } else if (const auto* real = std::get_if<double>(&value)) {
      written = std::to_string(*real);
    } else {
      written = "{";
      for (const std::int64_t item : std::get<std::span<const std::int64_t>>(value)) {
        if (written.size() > 1) written += ',';
        written += std::to_string(item);
      }
      written += '}';
    }
    ownedAt_.push_back(static_cast<int>(owned_.size()));
    values_.push_back(nullptr);  // set once owned_ no longer moves
    lengths_.push_back(static_cast<int>(written.size()));
    owned_.push_back(std::move(written));
  }
  void push(const char* data, int length) {
    ownedAt_.push_back(-1);
    values_.push_back(data);
    lengths_.push_back(length);
  }

  std::vector<std::string> owned_;
  std::vector<int> ownedAt_;
  std::vector<const char*> values_;
  std::vector<int> lengths_;
};

// libpq prints NOTICEs (e.g. of CREATE TABLE IF NOT EXISTS) on stderr, among the JSON log lines.
void ignoreNotice(void*, const char*) {}

class PostgresConnection final : public svc::StorageConnection {
 public:
  PostgresConnection(Poco::Data::Session session, Shared& shared)
      : session_(std::move(session)), pg_(connectionOf(*session_)), shared_(shared) {
    PQsetNoticeProcessor(pg_, ignoreNotice, nullptr);
  }

  /// Names the server session and sets up a direct one, by `deadline` (no watchdog watches a
  /// connection before its lease); throws DatabaseError.
  void configure(Clock::time_point deadline) {
    identify(deadline);
    if (!shared_.unnamedStatements) runScriptBy(sessionSettings(shared_.statementTimeout), deadline);
  }

  // Closing sends nothing and waits for nothing: the socket is shut and libpq reads its end, so
  // that POCO sees a broken connection and skips the goodbye it would send (and its PQfinish);
  // the connection is freed here. The server drops the session's statements with it.
  ~PostgresConnection() override {
    if (PQsocket(pg_) >= 0) {
      shutdown(PQsocket(pg_), SHUT_RDWR);
      PQconsumeInput(pg_);
    }
    const bool pocoFinishes = PQstatus(pg_) == CONNECTION_OK;
    result_.reset(nullptr);
    session_.reset();
    if (!pocoFinishes) PQfinish(pg_);
  }

  Poco::Data::Session& session() override { return *session_; }

  const svc::SqlResult& run(const svc::Statement& statement, std::span<const svc::SqlValue> parameters) override {
    const TextParameters text(parameters);
    if (shared_.unnamedStatements) {
      check(PQexecParams(pg_, std::string(statement.text).c_str(), text.count(), nullptr, text.values(), text.lengths(),
                         nullptr, 0),
            statement);
    } else {
      const std::string& name = preparedName(statement, text.count());
      check(PQexecPrepared(pg_, name.c_str(), text.count(), text.values(), text.lengths(), nullptr, 0), statement);
    }
    return result_;
  }

  void runScript(std::string_view sql) override {
    check(PQexec(pg_, std::string(sql).c_str()), svc::Statement{"script", sql});
  }

  bool inTransaction() override { return PQtransactionStatus(pg_) != PQTRANS_IDLE; }
  std::string serverSession() override {
    return shared_.unnamedStatements ? std::string(svc::kUnknowableSession) : serverSession_;
  }

  // An idle connection has nothing to read: no statement is running and nothing LISTENs. If
  // its socket is readable, the server has said goodbye ("terminating connection" on a restart
  // or pg_terminate_backend) or closed it. libpq would report that only after a failed statement.
  bool isAlive() override {
    if (PQstatus(pg_) != CONNECTION_OK) return false;
    pollfd socket{.fd = PQsocket(pg_), .events = POLLIN, .revents = 0};
    return poll(&socket, 1, 0) == 0;
  }

  // A cancel request goes on a connection of its own, which a partitioned network can hold
  // forever (PQcancel has no timeout): it runs on a thread of its own, the connection is cut at
  // the deadline whatever becomes of it, and a few at most are left waiting.
  void cancel() override {
    if (shared_.cancelsInFlight->load() >= kMaxCancelsInFlight) return;
    PGcancel* request = PQgetCancel(pg_);
    if (request == nullptr) return;
    keepThisLibraryLoaded();
    shared_.cancelsInFlight->fetch_add(1);
    std::thread([request, inFlight = shared_.cancelsInFlight] {
      char error[256];
      PQcancel(request, error, sizeof error);
      PQfreeCancel(request);
      inFlight->fetch_sub(1);
    }).detach();
  }

  // The socket stays open (only its owner closes it, so that its number cannot be reused
  // meanwhile); shut, it makes libpq's wait end with "server closed the connection".
  void sever() override {
    if (PQsocket(pg_) >= 0) shutdown(PQsocket(pg_), SHUT_RDWR);
  }

 private:
  // Behind a pooler the pid the server runs as is not the one libpq was given at start-up (the
  // pooler's own). With `pooler = none` that is a misconfiguration: named statements would fail
  // on the pooler's other server connections, and a lost session could not be named. Said once,
  // and every connection goes unnamed from then on.
  void identify(Clock::time_point deadline) {
    runScriptBy(kIdentifySql, deadline);
    if (result_.rows() != 1) throw svc::DatabaseError(StorageFailure::Other, "cannot identify the server session");
    serverSession_ = std::string(result_.text(0, 0));
    const bool behindPooler = result_.integer(0, 1) != PQbackendPID(pg_);
    if (behindPooler && !shared_.unnamedStatements.exchange(true) && !shared_.poolerReported.exchange(true)) {
      shared_.logger.error(
          "The PostgreSQL connection goes through a pooler but storage-postgres.pooler is none: set "
          "[storage-postgres] pooler = transaction. Statements run unnamed from now on, and the outcome of "
          "work on a lost connection cannot be confirmed",
          {{"setting", "storage-postgres.pooler"}, {"value", "none"}, {"expected", "transaction"}});
    }
  }

  // The connection's name for `statement`, prepared on first use: one name per statement text.
  const std::string& preparedName(const svc::Statement& statement, int parameterCount) {
    const auto known = prepared_.find(statement.text);
    if (known != prepared_.end()) return known->second;
    std::string name = "s" + std::to_string(prepared_.size() + 1);
    check(PQprepare(pg_, name.c_str(), std::string(statement.text).c_str(), parameterCount, nullptr), statement);
    return prepared_.emplace(statement.text, std::move(name)).first->second;
  }

  // runScript() that gives up at `deadline`: the socket is shut, and the connection is lost.
  void runScriptBy(std::string_view sql, Clock::time_point deadline) {
    const svc::Statement statement{"script", sql};
    if (PQsendQuery(pg_, std::string(sql).c_str()) == 0) return check(nullptr, statement);
    PGresult* outcome = nullptr;  // the first error, or else the last result
    while (true) {
      while (PQisBusy(pg_) != 0) {
        if (!readyBy(PQsocket(pg_), POLLIN, deadline)) {
          PQclear(outcome);
          shutdown(PQsocket(pg_), SHUT_RDWR);
          throw svc::DatabaseError(StorageFailure::ConnectionLost, "the new connection's set-up had no answer in time");
        }
        if (PQconsumeInput(pg_) == 0) {  // PQgetResult would wait for the socket, with no deadline
          shutdown(PQsocket(pg_), SHUT_RDWR);
          break;
        }
      }
      PGresult* next = PQgetResult(pg_);
      if (next == nullptr) break;
      if (outcome != nullptr && PQresultStatus(outcome) == PGRES_FATAL_ERROR) {
        PQclear(next);
      } else {
        PQclear(outcome);
        outcome = next;
      }
    }
    check(outcome, statement);
  }

  void check(PGresult* result, const svc::Statement& statement) {
    result_.reset(result);
    const ExecStatusType status = PQresultStatus(result);
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return;
    const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
    std::string message = std::string(statement.name) + ": " + PQerrorMessage(pg_);
    while (!message.empty() && message.back() == '\n') message.pop_back();
    if (state == nullptr) {  // no answer from the server: the connection failed
      throw svc::DatabaseError(StorageFailure::ConnectionLost, message);
    }
    message += std::string(" (SQLSTATE ") + state + ")";
    throw svc::DatabaseError(PQstatus(pg_) == CONNECTION_OK ? failureOfState(state) : StorageFailure::ConnectionLost,
                             message);
  }

  std::optional<Poco::Data::Session> session_;
  PGconn* pg_;
  Shared& shared_;
  PostgresResult result_;
  std::unordered_map<std::string_view, std::string> prepared_;  ///< by statement text
  std::string serverSession_;
};

class PostgresBackend final : public svc::StorageBackend {
 public:
  explicit PostgresBackend(const svc::StoragePluginContext& context)
      : shared_{.connection = context.settings.text("connection"),
                .unnamedStatements = context.settings.text("pooler") == "transaction",
                .logger = context.logger,
                .statementTimeout = context.statementTimeout},
        target_(describe(parseConnection(shared_.connection))) {
    postgres::Connector::registerConnector();
  }

  ~PostgresBackend() override { postgres::Connector::unregisterConnector(); }

  std::string name() const override { return "postgresql"; }
  std::string target() const override { return target_; }

  std::unique_ptr<svc::StorageConnection> connect(std::chrono::milliseconds timeout) override {
    if (!connectsInterposed.load(std::memory_order_relaxed)) probe(timeout);
    ConnectAttempt attempt{.deadline = Clock::now() + timeout};
    std::unique_ptr<PostgresConnection> connection;
    try {
      const ConnectsUnderWay::Scope underWay(connectsUnderWay, attempt);
      connection = std::make_unique<PostgresConnection>(
          Poco::Data::Session(postgres::Connector::KEY, shared_.connection), shared_);
    } catch (const Poco::Exception& failure) {
      PQfinish(attempt.made);  // a failed attempt is POCO's to free, and it does not
      const std::string why = attempt.timedOut
                                  ? "Connection Error: no answer within " + std::to_string(timeout.count()) + " ms"
                                  : failure.displayText();
      throw svc::DatabaseError(failureAtConnect(why), why);
    }
    connection->configure(attempt.deadline);
    return connection;
  }

  bool awaitEnded(svc::StorageConnection& over, const std::string& serverSession,
                  std::chrono::milliseconds wait) override {
    if (serverSession == svc::kUnknowableSession) return false;
    const svc::SqlValue parameters[] = {std::string_view(serverSession), static_cast<std::int64_t>(wait.count())};
    const svc::SqlResult& ended = over.run(kAwaitEnded, parameters);
    return ended.rows() == 1 && ended.integer(0, 0) == 1;
  }

  // A transaction-level advisory lock: it also holds behind a transaction pooler, and ends with
  // the transaction whatever happens to the connection. So does the statement timeout, which
  // bounds the wait for the lock and for locked tables (no watchdog watches migrations).
  void beginMigrations(svc::StorageConnection& connection) override {
    connection.runScript("BEGIN; SET LOCAL statement_timeout TO " + std::to_string(shared_.statementTimeout.count()) +
                         "; SELECT pg_advisory_xact_lock(" + std::to_string(kMigrationLock) + ")");
  }

 private:
  // Where POCO's library finds libpq's PQconnectdb before the one above (a process that links
  // POCO's PostgreSQL library itself, as every in-process test program does), its attempt can only
  // be bounded by connect_timeout (2 s at least) and leaks what a failed one made (35 KB). So
  // libpq itself tries first, within `timeout`, and frees what it made: one more handshake per
  // new connection, and POCO's attempt then fails only if the database goes away in between.
  void probe(std::chrono::milliseconds timeout) const {
    PGconn* attempt = PQconnectStart(shared_.connection.c_str());
    const bool reachable = attempt != nullptr && connectsBy(attempt, Clock::now() + timeout);
    const std::string error = reachable ? ""
                              : attempt == nullptr || PQstatus(attempt) != CONNECTION_BAD
                                  ? "no answer within " + std::to_string(timeout.count()) + " ms"
                                  : PQerrorMessage(attempt);
    PQfinish(attempt);
    if (!reachable) throw svc::DatabaseError(failureAtConnect(error), "Connection Error: " + error);
  }

  Shared shared_;
  std::string target_;
};

std::unique_ptr<svc::StorageBackend> createPostgresBackend(const svc::StoragePluginContext& context) {
  return std::make_unique<PostgresBackend>(context);
}

}  // namespace

SVC_STORAGE_PLUGIN(createPostgresBackend, settingsSchema)
