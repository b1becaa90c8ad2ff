#pragma once

#include <string>
#include <vector>

#include <Poco/Util/OptionSet.h>
#include <Poco/Util/ServerApplication.h>

#include "settings.h"
#include "svc/log.h"

namespace svc::host {

/// The executable: reads the .ini (and its environment overrides), assembles the Runtime,
/// serves until SIGTERM or SIGINT, then shuts down gracefully.
class ServiceHost final : public Poco::Util::ServerApplication {
 protected:
  void defineOptions(Poco::Util::OptionSet& options) override;
  void handleOption(const std::string& name, const std::string& value) override;
  int main(const std::vector<std::string>& args) override;

 private:
  void displayHelp();
  HostSettings loadSettings();
  int serve(const HostSettings& settings, const Logger& logger);

  bool helpRequested_ = false;
  std::string configFile_;
};

}  // namespace svc::host
