#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <utility>

#include "support/tcp_proxy.h"
#include "support/test_database.h"

namespace test_support {

/// The host and port a libpq connection string names (127.0.0.1 and 5432 unless it says).
std::pair<std::string, std::uint16_t> postgresEndpoint(const std::string& connection);

/// Makes the database of a test go away and come back while the service keeps running: for
/// PostgreSQL a proxy in front of the server (which `config` is pointed at) cuts and refuses
/// connections; the embedded SQLite file becomes unreachable when its folder cannot be created.
/// The database is available until takeDatabaseAway().
class StorageOutage {
 public:
  StorageOutage(const TestDatabase& database, ServiceConfig& config);

  void takeDatabaseAway();
  void bringDatabaseBack();
  /// Whether the database can go away while connections to it are open (SQLite's cannot), or
  /// fall silent behind a black hole.
  bool canCutOpenConnections() const { return proxy_ != nullptr; }
  /// The database stops answering, its connections stay open (TcpProxy::blackHole; PostgreSQL).
  void silenceDatabase() { proxy_->blackHole(); }
  void healSilence() { proxy_->resume(); }
  /// New connections after the next `forwarded` get no answer (TcpProxy::holdNewConnectionsAfter).
  void silenceNewConnectionsAfter(int forwarded) { proxy_->holdNewConnectionsAfter(forwarded); }

 private:
  std::unique_ptr<TcpProxy> proxy_;
  std::filesystem::path blocker_;
};

}  // namespace test_support
