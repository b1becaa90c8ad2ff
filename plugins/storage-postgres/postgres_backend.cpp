// The production backend. Sessions are checked for a closed socket before reuse, so a database
// restart costs no failed request, and every session works in UTC with ISO dates.
//
// `pooler = transaction` is for a transaction-mode pooler (PgBouncer pool_mode = transaction)
// between the service and PostgreSQL. POCO 1.11 prepares every statement under a generated name
// (PQprepare, then PQdescribePrepared and PQexecPrepared, each its own round trip) and drops it
// only when the Statement is destroyed; such a pooler may run each of those round trips on
// another server connection, where the name does not exist. So each lease runs as one
// transaction, which keeps one server connection: its settings are SET LOCAL, the host destroys
// its statements (DEALLOCATE) before the COMMIT, and DEALLOCATE ALL at its start clears whatever
// a client that failed midway left on that server connection.
#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <cerrno>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <libpq-fe.h>

#include <Poco/Data/PostgreSQL/Connector.h>
#include <Poco/Data/PostgreSQL/PostgreSQLException.h>
#include <Poco/Data/PostgreSQL/SessionImpl.h>
#include <Poco/String.h>

#include "svc/plugin_api.h"

namespace {

namespace postgres = Poco::Data::PostgreSQL;
using Clock = std::chrono::steady_clock;

// Cancel requests waiting for an answer at most; past it the connection is only cut.
constexpr int kMaxCancelsInFlight = 8;

// The server-side session of this connection, as "pid:backend start in microseconds": a pid
// alone may be reused by a later session.
// What identify() answers where no server session can be named (behind a transaction pooler).
constexpr const char* kUnknowableSession = "unknowable";
constexpr const char* kIdentifySql =
    "SELECT pid::text || ':' || (extract(epoch FROM backend_start) * 1000000)::bigint::text "
    "FROM pg_stat_activity WHERE pid = pg_backend_pid()";

// Ends the session $1 ("pid:start") if it still runs, waiting up to $2 ms: true when it is gone.
constexpr const char* kAwaitEndedSql =
    "SELECT COALESCE(bool_and(pg_terminate_backend(pid, $2::bigint)), true) FROM pg_stat_activity "
    "WHERE pid = split_part($1, ':', 1)::int "
    "AND (extract(epoch FROM backend_start) * 1000000)::bigint::text = split_part($1, ':', 2)";

// One row, one column of text from a libpq result, or a ConnectionException for a failure.
std::string singleValue(PGconn* connection, PGresult* result) {
  const bool ok = PQresultStatus(result) == PGRES_TUPLES_OK && PQntuples(result) == 1;
  const std::string value = ok ? PQgetvalue(result, 0, 0) : "";
  PQclear(result);
  if (!ok) throw postgres::StatementException(std::string("Statement Error: ") + PQerrorMessage(connection));
  return value;
}

// Whether a connection attempt of libpq's non-blocking API succeeds within `timeout` (libpq's
// own connect_timeout is 2 s at least, and only for the blocking calls).
bool connectsWithin(PGconn* attempt, std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  PostgresPollingStatusType status = PGRES_POLLING_WRITING;
  while (PQstatus(attempt) != CONNECTION_BAD && status != PGRES_POLLING_OK && status != PGRES_POLLING_FAILED) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    pollfd socket{.fd = PQsocket(attempt),
                  .events = static_cast<short>(status == PGRES_POLLING_READING ? POLLIN : POLLOUT),
                  .revents = 0};
    if (poll(&socket, 1, static_cast<int>(left.count())) < 0 && errno != EINTR) return false;
    if (socket.revents == 0) continue;
    status = PQconnectPoll(attempt);
  }
  return status == PGRES_POLLING_OK;
}

PGconn* connectionOf(Poco::Data::Session& session) {
  auto* impl = dynamic_cast<postgres::SessionImpl*>(session.impl());
  return impl ? static_cast<PGconn*>(impl->handle()) : nullptr;
}

// The keys and values of a libpq connection string that POCO passes on intact: it splits the
// string at spaces and '=' itself, even inside quotes.
std::map<std::string, std::string> parseConnection(const std::string& connection) {
  if (connection.find("://") != std::string::npos) {
    throw std::invalid_argument("storage-postgres.connection must be libpq key=value pairs (host=... dbname=...); "
                                "POCO does not accept a postgresql:// URI");
  }
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(connection.c_str(), &error);
  if (options == nullptr) {
    PQfreemem(error);
    throw std::invalid_argument("storage-postgres.connection is not a libpq key=value connection string");
  }
  std::map<std::string, std::string> values;
  for (PQconninfoOption* option = options; option->keyword != nullptr; ++option) {
    if (option->val != nullptr) values[option->keyword] = option->val;
  }
  PQconninfoFree(options);
  for (const auto& [key, value] : values) {
    if (value.empty()) {
      throw std::invalid_argument("storage-postgres.connection: " + key + " has no value; leave the key out instead");
    }
    if (value.find_first_of(" \t'\"=\\") != std::string::npos) {
      throw std::invalid_argument("storage-postgres.connection: the value of " + key +
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

// Whether `[storage] pooler` names a transaction-mode pooler ("transaction") or none ("none").
bool behindTransactionPooler(const svc::PluginContext& context) {
  const std::string pooler = Poco::trim(context.config.getString("pooler", "none"));
  if (pooler != "none" && pooler != "transaction") {
    throw std::invalid_argument("storage-postgres.pooler must be none or transaction, not \"" + pooler + "\"");
  }
  return pooler == "transaction";
}

// client_min_messages: libpq would print NOTICEs (e.g. from CREATE TABLE IF NOT EXISTS) as plain
// text among the JSON log lines. Behind a pooler, also the WARNING of a BEGIN inside the lease's
// transaction.
std::string sessionSettings(const svc::PluginContext& context, bool local) {
  const std::string set = local ? "SET LOCAL " : "SET ";
  return set + "TIME ZONE 'UTC'; " + set + "datestyle TO ISO; " + set + "client_min_messages TO " +
         (local ? "error; " : "warning; ") + set + "statement_timeout TO " +
         std::to_string(context.intSetting("statement_timeout_ms", 5000, 0, 3600000));
}

// Runs `sql` (statements separated by ';') through the simple query protocol: no named statement.
void execute(PGconn* connection, const std::string& sql) {
  PGresult* result = PQexec(connection, sql.c_str());
  const bool done = PQresultStatus(result) == PGRES_COMMAND_OK || PQresultStatus(result) == PGRES_TUPLES_OK;
  PQclear(result);
  if (!done) throw postgres::StatementException(sql.substr(0, sql.find(' ')) + " failed: " + PQerrorMessage(connection));
}

class PostgresBackend final : public svc::StorageBackend {
 public:
  /// The key of the advisory lock migrations hold (any fixed number other applications do not use).
  static constexpr std::int64_t kMigrationLock = 0x6f72646572730001;  // "orders", 1
  explicit PostgresBackend(const svc::PluginContext& context)
      : connection_(Poco::trim(context.config.getString("connection", ""))),
        target_(describe(parseConnection(connection_))),
        transactionPooler_(behindTransactionPooler(context)),
        sessionSetup_(transactionPooler_ ? "" : sessionSettings(context, false)),
        leaseSetup_("BEGIN; " + sessionSettings(context, true) + "; DEALLOCATE ALL") {
    postgres::Connector::registerConnector();
  }

  ~PostgresBackend() override { postgres::Connector::unregisterConnector(); }

  std::string name() const override { return "postgresql"; }
  std::string target() const override { return target_; }

  Poco::Data::Session connect(std::chrono::milliseconds timeout) override {
    try {
      return connectOrThrow(timeout);
    } catch (const Poco::Exception& failure) {
      if (const auto shortage = shortageAtConnect(failure.displayText())) {
        throw svc::StorageUnavailable(*shortage, failure.displayText());
      }
      throw;
    }
  }

  // At connection time libpq gives the server's message, not its SQLSTATE: these are the texts of
  // 53300 too_many_connections and 53200 out_of_memory (in the server's lc_messages, English by default).
  static std::optional<svc::DatabaseShortage> shortageAtConnect(const std::string& message) {
    for (const char* text : {"too many clients", "too many connections", "remaining connection slots are reserved"}) {
      if (message.find(text) != std::string::npos) return svc::DatabaseShortage::Connections;
    }
    if (message.find("out of memory") != std::string::npos) return svc::DatabaseShortage::Memory;
    return std::nullopt;
  }

  Poco::Data::Session connectOrThrow(std::chrono::milliseconds timeout) {
    probe(timeout);
    return open();
  }

  // POCO 1.11 leaks the libpq connection of a failed attempt (SessionHandle::connect throws
  // without PQfinish): 35 KB a try, each first failure after a success included. And POCO's
  // attempt can only be bounded by connect_timeout (2 s at least). So libpq itself tries first,
  // within `timeout`, and frees what it made: one more handshake per new pooled connection, and
  // POCO's attempt then fails only if the database goes away in between.
  void probe(std::chrono::milliseconds timeout) const {
    PGconn* attempt = PQconnectStart(connection_.c_str());
    const bool reachable = attempt != nullptr && connectsWithin(attempt, timeout);
    const std::string error = reachable ? ""
                              : attempt == nullptr || PQstatus(attempt) != CONNECTION_BAD
                                  ? "no answer within " + std::to_string(timeout.count()) + " ms"
                                  : PQerrorMessage(attempt);
    PQfinish(attempt);
    if (!reachable) throw postgres::ConnectionException("Connection Error: " + error);
  }

  // Behind a transaction-mode pooler each transaction may run on another server session, so none
  // names the work of a lost connection: its end can never be confirmed (awaitEnded says no, and an
  // interrupted order is answered "outcome unknown" rather than guessed).
  std::string identify(Poco::Data::Session& session) const override {
    if (transactionPooler_) return kUnknowableSession;
    PGconn* connection = connectionOf(session);
    return singleValue(connection, PQexec(connection, kIdentifySql));
  }

  // A cancel request goes on a connection of its own, which a partitioned network can hold
  // forever (PQcancel has no timeout): it runs on a thread of its own, the connection is cut at
  // the deadline whatever becomes of it, and a few at most are left waiting.
  void cancel(Poco::Data::Session& session) const override {
    PGconn* connection = connectionOf(session);
    if (connection == nullptr || cancelsInFlight_->load() >= kMaxCancelsInFlight) return;
    PGcancel* request = PQgetCancel(connection);
    if (request == nullptr) return;
    cancelsInFlight_->fetch_add(1);
    std::thread([request, inFlight = cancelsInFlight_] {
      char error[256];
      PQcancel(request, error, sizeof error);
      PQfreeCancel(request);
      inFlight->fetch_sub(1);
    }).detach();
  }

  // The socket stays open (only its owner closes it, so that its number cannot be reused
  // meanwhile); shut, it makes libpq's wait end with "server closed the connection".
  void sever(Poco::Data::Session& session) const override {
    PGconn* connection = connectionOf(session);
    if (connection != nullptr && PQsocket(connection) >= 0) shutdown(PQsocket(connection), SHUT_RDWR);
  }

  // Closing sends nothing and waits for nothing. POCO 1.11 would DEALLOCATE each prepared
  // statement with a blocking PQexec, which a link gone silent holds until it heals: so the
  // socket is shut first and libpq reads its end, which marks the connection broken, and POCO
  // then skips both the DEALLOCATEs and its PQfinish (SessionHandle::disconnect checks
  // CONNECTION_OK). The server drops the statements with the session. The libpq connection is
  // freed here once the session is destroyed, unless another Session shares it (one Session
  // counts twice: itself and its StatementCreator).
  std::function<void()> closing(Poco::Data::Session& session) const override {
    PGconn* connection = connectionOf(session);
    if (connection == nullptr || session.impl()->referenceCount() > 2) return {};
    if (PQsocket(connection) >= 0) {
      shutdown(PQsocket(connection), SHUT_RDWR);
      PQconsumeInput(connection);
    }
    if (PQstatus(connection) == CONNECTION_OK) return {};  // POCO finishes it
    return [connection] { PQfinish(connection); };
  }

  bool awaitEnded(Poco::Data::Session& session, const std::string& identity,
                  std::chrono::milliseconds wait) const override {
    if (identity == kUnknowableSession) return false;
    PGconn* connection = connectionOf(session);
    const std::string waitMs = std::to_string(wait.count());
    const char* values[] = {identity.c_str(), waitMs.c_str()};
    PGresult* result = PQexecParams(connection, kAwaitEndedSql, 2, nullptr, values, nullptr, nullptr, 0);
    return singleValue(connection, result) == "t";
  }

  Poco::Data::Session open() const {
    Poco::Data::Session session(postgres::Connector::KEY, connection_);
    if (sessionSetup_.empty()) return session;
    PGresult* result = PQexec(connectionOf(session), sessionSetup_.c_str());
    const bool configured = PQresultStatus(result) == PGRES_COMMAND_OK;
    PQclear(result);
    if (!configured) {
      throw postgres::ConnectionException(std::string("cannot configure the session: ") +
                                          PQerrorMessage(connectionOf(session)));
    }
    return session;
  }

  // An idle connection has nothing to read: no statement is running and nothing LISTENs. If
  // its socket is readable, the server has said goodbye ("terminating connection" on a restart
  // or pg_terminate_backend) or closed it. libpq would report that only after a failed statement.
  bool isAlive(Poco::Data::Session& session) const override {
    PGconn* connection = connectionOf(session);
    if (connection == nullptr || PQstatus(connection) != CONNECTION_OK) return false;
    pollfd socket{.fd = PQsocket(connection), .events = POLLIN, .revents = 0};
    return poll(&socket, 1, 0) == 0;
  }

  svc::StorageFailure classify(const Poco::Exception& failure, Poco::Data::Session& session) const override {
    const std::string text = failure.displayText();
    if (!isAlive(session) || text.find("State: 57P") != std::string::npos ||
        dynamic_cast<const postgres::ConnectionException*>(&failure) != nullptr) {
      return svc::StorageFailure::ConnectionLost;
    }
    if (text.find("State: 23505") != std::string::npos) return svc::StorageFailure::UniqueViolation;
    if (text.find("State: 53100") != std::string::npos) return svc::StorageFailure::OutOfDiskSpace;
    if (text.find("State: 53200") != std::string::npos) return svc::StorageFailure::OutOfMemory;
    if (text.find("State: 40001") != std::string::npos || text.find("State: 40P01") != std::string::npos ||
        text.find("State: 55P03") != std::string::npos || text.find("State: 57014") != std::string::npos) {
      return svc::StorageFailure::Busy;  // serialization, deadlock, lock timeout, statement timeout
    }
    // A statement that waits for a lock while it is prepared (a SELECT of a locked table) fails in
    // PQprepare, which POCO reports without the SQLSTATE: the server's message (English by default)
    // says it, for statement and lock timeouts (57014, 55P03).
    if (text.find("canceling statement due to") != std::string::npos) return svc::StorageFailure::Busy;
    return svc::StorageFailure::Other;
  }

  bool beginLease(Poco::Data::Session& session) override {
    if (!transactionPooler_) return false;
    execute(connectionOf(session), leaseSetup_);
    return true;
  }

  // A transaction-level advisory lock: it also holds behind a transaction pooler, and ends with
  // the transaction whatever happens to the connection.
  void beginMigrations(Poco::Data::Session& session) override {
    execute(connectionOf(session), (transactionPooler_ ? leaseSetup_ : "BEGIN") +
                                       "; SELECT pg_advisory_xact_lock(" + std::to_string(kMigrationLock) + ")");
  }

  void endMigrations(Poco::Data::Session& session, bool commit) override { endLeaseTransaction(session, commit); }

  // The transaction may have ended already: the plugin committed or rolled back its own.
  void endLeaseTransaction(Poco::Data::Session& session, bool commit) override {
    PGconn* connection = connectionOf(session);
    switch (PQtransactionStatus(connection)) {
      case PQTRANS_INTRANS:
        execute(connection, commit ? "COMMIT" : "ROLLBACK");
        return;
      case PQTRANS_INERROR:
        execute(connection, "ROLLBACK");
        if (commit) throw postgres::StatementException("the lease's transaction failed and was rolled back");
        return;
      case PQTRANS_IDLE:
        return;
      default:  // the connection broke (or is still busy): whether the work committed is unknown
        if (commit) throw postgres::ConnectionException("the connection was lost before the lease's transaction committed");
        return;
    }
  }

 private:
  std::string connection_;
  std::string target_;
  bool transactionPooler_;
  std::string sessionSetup_;  ///< empty behind a transaction pooler, where session settings do not stick
  std::string leaseSetup_;
  std::shared_ptr<std::atomic<int>> cancelsInFlight_ = std::make_shared<std::atomic<int>>(0);
};

std::unique_ptr<svc::StorageBackend> createPostgresBackend(const svc::PluginContext& context) {
  return std::make_unique<PostgresBackend>(context);
}

}  // namespace

SVC_STORAGE_PLUGIN(createPostgresBackend)
