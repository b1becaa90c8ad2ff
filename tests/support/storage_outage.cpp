#include "support/storage_outage.h"

#include <fstream>
#include <sstream>
#include <string>
#include <utility>

namespace test_support {

std::pair<std::string, std::uint16_t> postgresEndpoint(const std::string& connection) {
  std::string host = "127.0.0.1";
  std::uint16_t port = 5432;
  std::istringstream words(connection);
  for (std::string word; words >> word;) {
    if (word.rfind("host=", 0) == 0) host = word.substr(5);
    if (word.rfind("port=", 0) == 0) port = static_cast<std::uint16_t>(std::stoi(word.substr(5)));
  }
  return {host, port};
}

StorageOutage::StorageOutage(const TestDatabase& database, ServiceConfig& config) {
  if (database.backendName() == "postgresql") {
    const std::string connection = database.storageSettings()["connection"];
    const auto [host, port] = postgresEndpoint(connection);
    proxy_ = std::make_unique<TcpProxy>(host, port);
    proxy_->start();
    config.set("storage-postgres.connection", connection + " host=127.0.0.1 port=" + std::to_string(proxy_->port()));
  } else {
    blocker_ = std::filesystem::path(database.storageSettings()["database"]).parent_path();
  }
}

void StorageOutage::takeDatabaseAway() {
  if (proxy_) proxy_->stop();
  else std::ofstream(blocker_) << "a file where the database folder should be";
}

void StorageOutage::bringDatabaseBack() {
  if (proxy_) proxy_->start();
  else std::filesystem::remove(blocker_);
}

}  // namespace test_support
