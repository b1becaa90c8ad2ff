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

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <libpq-fe.h>

#include <Poco/Data/PostgreSQL/Connector.h>
#include <Poco/Data/PostgreSQL/PostgreSQLException.h>
#include <Poco/Data/PostgreSQL/SessionImpl.h>
#include <Poco/String.h>

#include "svc/plugin_api.h"

namespace {

namespace postgres = Poco::Data::PostgreSQL;

PGconn* connectionOf(Poco::Data::Session& session) {
  auto* impl = dynamic_cast<postgres::SessionImpl*>(session.impl());
  return impl ? static_cast<PGconn*>(impl->handle()) : nullptr;
}

// The keys and values of a libpq connection string that POCO passes on intact: it splits the
// string at spaces and '=' itself, even inside quotes.
std::map<std::string, std::string> parseConnection(const std::string& connection) {
  if (connection.find("://") != std::string::npos) {
    throw std::invalid_argument("storage.connection must be libpq key=value pairs (host=... dbname=...); "
                                "POCO does not accept a postgresql:// URI");
  }
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(connection.c_str(), &error);
  if (options == nullptr) {
    PQfreemem(error);
    throw std::invalid_argument("storage.connection is not a libpq key=value connection string");
  }
  std::map<std::string, std::string> values;
  for (PQconninfoOption* option = options; option->keyword != nullptr; ++option) {
    if (option->val != nullptr) values[option->keyword] = option->val;
  }
  PQconninfoFree(options);
  for (const auto& [key, value] : values) {
    if (value.empty()) {
      throw std::invalid_argument("storage.connection: " + key + " has no value; leave the key out instead");
    }
    if (value.find_first_of(" \t'\"=\\") != std::string::npos) {
      throw std::invalid_argument("storage.connection: the value of " + key +
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
    throw std::invalid_argument("storage.pooler must be none or transaction, not \"" + pooler + "\"");
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

  Poco::Data::Session connect() override {
    try {
      return connectOrThrow();
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

  Poco::Data::Session connectOrThrow() {
    if (probeFirst_.load()) probe();
    try {
      Poco::Data::Session session = open();
      probeFirst_.store(false);
      return session;
    } catch (...) {
      probeFirst_.store(true);
      throw;
    }
  }

  // POCO 1.11 leaks the libpq connection of a failed attempt (SessionHandle::connect throws
  // without PQfinish): 35 KB a try, every reconnect_backoff_ms while the database is away. So
  // until a connection succeeds, libpq itself tries first and frees what it made.
  void probe() const {
    PGconn* attempt = PQconnectdb(connection_.c_str());
    const bool reachable = PQstatus(attempt) == CONNECTION_OK;
    const std::string error = reachable ? "" : PQerrorMessage(attempt);
    PQfinish(attempt);
    if (!reachable) throw postgres::ConnectionException("Connection Error: " + error);
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
      default:
        return;
    }
  }

 private:
  std::string connection_;
  std::string target_;
  bool transactionPooler_;
  std::string sessionSetup_;  ///< empty behind a transaction pooler, where session settings do not stick
  std::string leaseSetup_;
  std::atomic<bool> probeFirst_{true};  ///< no connection has succeeded since the last failure
};

std::unique_ptr<svc::StorageBackend> createPostgresBackend(const svc::PluginContext& context) {
  return std::make_unique<PostgresBackend>(context);
}

}  // namespace

SVC_STORAGE_PLUGIN(createPostgresBackend)
