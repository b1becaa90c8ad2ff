#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <Poco/Util/OptionSet.h>
#include <Poco/Util/ServerApplication.h>

#include "log_sinks.h"
#include "settings.h"
#include "settings_reference.h"
#include "svc/log.h"

namespace svc::host {

/// The executable: reads the .ini (and its environment overrides), assembles the Runtime,
/// serves until SIGTERM or SIGINT, then shuts down gracefully.
class ServiceHost final : public Poco::Util::ServerApplication {
 public:
  /// Checks the command line, then runs: with --daemon, this process waits until the detached
  /// server has started (exit 0) or failed to (its exit code, and the reason on stderr).
  int launch(const std::vector<std::string>& args);

 protected:
  void defineOptions(Poco::Util::OptionSet& options) override;
  void handleOption(const std::string& name, const std::string& value) override;
  int main(const std::vector<std::string>& args) override;

 private:
  void displayHelp();
  std::string settingsHelp();
  int printSettingsReference(ReferenceFormat format);
  /// --help and --settings-reference print and exit.
  static bool printsAndExits(const std::vector<std::string>& args);
  std::optional<std::string> commandLineProblem(const std::vector<std::string>& args);
  /// Adds the configuration files and the environment's overrides to config().
  void loadConfiguration();
  HostSettings loadSettings();
  void logConfigurationNotes(const HostSettings& settings, const Logger& logger) const;
  int serve(const HostSettings& settings, const Logger& logger, AsyncLogSink& logSink);
  /// Logs why start-up failed, tells a waiting launcher, and returns `code`.
  int startupFailed(const Logger& logger, int code, std::string_view message, const std::string& reason);
  void reportStartup(const std::string& report);

  static constexpr std::string_view kSettingsReferenceOption = "--settings-reference=";

  bool helpRequested_ = false;
  std::optional<ReferenceFormat> referenceFormat_;
  EnvironmentOverrides environment_;
  std::string configFile_;  ///< --config
  std::string configPath_;  ///< the file read: --config or <executable>.ini
  int startupReport_ = -1;  ///< with --daemon: the pipe to the launcher waiting for start-up
};

}  // namespace svc::host
