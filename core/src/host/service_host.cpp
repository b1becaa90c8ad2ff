#include "service_host.h"

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include <Poco/Net/NetException.h>
#include <Poco/Util/HelpFormatter.h>
#include <Poco/Util/IniFileConfiguration.h>
#include <Poco/Util/MapConfiguration.h>
#include <Poco/Util/Option.h>

#include "log_sinks.h"
#include "migrations.h"
#include "plugin_loader.h"
#include "runtime.h"
#include "svc/version.h"

namespace svc::host {

namespace {

// Above everything else, even the application's own properties.
constexpr int kEnvironmentPriority = Poco::Util::Application::PRIO_APPLICATION - 100;

std::optional<std::string> readEnvironment(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

}  // namespace

void ServiceHost::defineOptions(Poco::Util::OptionSet& options) {
  ServerApplication::defineOptions(options);
  options.addOption(Poco::Util::Option("help", "h", "Show this help and exit.").required(false).repeatable(false));
  options.addOption(Poco::Util::Option("config", "", "Read the configuration from FILE instead of <executable>.ini.")
                        .required(false)
                        .repeatable(false)
                        .argument("FILE"));
}

void ServiceHost::handleOption(const std::string& name, const std::string& value) {
  ServerApplication::handleOption(name, value);
  if (name == "help") {
    helpRequested_ = true;
    stopOptionsProcessing();
  } else if (name == "config") {
    configFile_ = value;
  }
}

void ServiceHost::displayHelp() {
  Poco::Util::HelpFormatter help(options());
  help.setCommand(commandName());
  help.setUsage("[--config=FILE] [--daemon --pidfile=FILE]");
  help.setHeader("Serves the routes of the plugins named in the configuration file.");
  help.setFooter("Every key of the file can be overridden by an environment variable: key storage.pool_size of "
                 "service order-service is ORDER_SERVICE_STORAGE_POOL_SIZE. See docs/api.md.");
  help.format(std::cout);
}

HostSettings ServiceHost::loadSettings() {
  const std::string baseName = config().getString("application.baseName");
  const std::string file =
      configFile_.empty() ? config().getString("application.dir") + baseName + ".ini" : configFile_;
  if (!std::filesystem::is_regular_file(file)) throw ConfigError("configuration file " + file + " does not exist");
  Poco::AutoPtr<Poco::Util::IniFileConfiguration> ini;
  try {
    ini = new Poco::Util::IniFileConfiguration(file);
  } catch (const Poco::Exception& error) {
    throw ConfigError("cannot read configuration file " + file + ": " + error.displayText());
  }
  const std::string prefix = environmentPrefix(ini->getString("service.name", baseName));
  Poco::AutoPtr<Poco::Util::MapConfiguration> overrides = new Poco::Util::MapConfiguration;
  for (const auto& [key, value] : environmentOverrides(*ini, prefix, readEnvironment)) overrides->setString(key, value);
  config().add(ini, PRIO_DEFAULT);
  config().add(overrides, kEnvironmentPriority);
  config().setString("service.config_file", file);
  return readSettings(config(), baseName);
}

int ServiceHost::main(const std::vector<std::string>& args) {
  if (helpRequested_) {
    displayHelp();
    return EXIT_OK;
  }
  const bool daemon = config().getBool("application.runAsDaemon", false);
  const std::string baseName = config().getString("application.baseName");
  const Logger bootstrap(baseName, LogFormat::Json, LogLevel::Info, makeLogSink(LoggingSettings{}, baseName, daemon));
  if (!args.empty()) {
    bootstrap.error("Unexpected command-line argument; see --help", {{"argument", args.front()}});
    return EXIT_USAGE;
  }
  HostSettings settings;
  std::shared_ptr<LogSink> sink;
  try {
    settings = loadSettings();
    sink = makeLogSink(settings.logging, settings.serviceName, daemon);
  } catch (const std::exception& error) {
    bootstrap.error("Invalid configuration", {{"reason", error.what()}});
    return EXIT_CONFIG;
  }
  const Logger logger(settings.serviceName, settings.logging.format, settings.logging.level, sink);
  return serve(settings, logger);
}

int ServiceHost::serve(const HostSettings& settings, const Logger& logger) {
  std::unique_ptr<Runtime> runtime;
  try {
    runtime = std::make_unique<Runtime>(settings, config(), logger);
    runtime->start();
  } catch (const Poco::Net::NetException& error) {
    logger.error("Cannot listen", {{"host", settings.server.host}, {"port", settings.server.port},
                                   {"reason", error.displayText()}});
    return EXIT_UNAVAILABLE;
  } catch (const std::exception& error) {
    logger.error("Start-up failed", {{"reason", error.what()}});
    return EXIT_CONFIG;
  }
  logger.info("Service started", {{"host", settings.server.host},
                                  {"port", runtime->port()},
                                  {"config", config().getString("service.config_file")},
                                  {"plugin_api_version", kPluginApiVersion},
                                  {"max_threads", settings.server.maxThreads}});
  waitForTerminationRequest();
  logger.info("Shutting down", {{"grace_ms", static_cast<std::int64_t>(settings.server.shutdownGrace.count())}});
  if (!runtime->stop(settings.server.shutdownGrace)) {
    // A request thread may still use plugin code: unloading it now could crash, so leave at once.
    logger.error("Requests still running after the grace period; exiting without waiting for them");
    std::_Exit(EXIT_SOFTWARE);
  }
  runtime.reset();
  logger.info("Service stopped");
  return EXIT_OK;
}

}  // namespace svc::host
