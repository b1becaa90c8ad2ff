#include "service_host.h"

#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <Poco/Net/NetException.h>
#include <Poco/Util/HelpFormatter.h>
#include <Poco/Util/LayeredConfiguration.h>
#include <Poco/Util/MapConfiguration.h>
#include <Poco/Util/Option.h>

#include "log_sinks.h"
#include "migrations.h"
#include "plugin_loader.h"
#include "runtime.h"
#include "settings_reference.h"
#include "svc/version.h"

namespace svc::host {

namespace {

// Above everything else, even the application's own properties.
constexpr int kEnvironmentPriority = Poco::Util::Application::PRIO_APPLICATION - 100;

// The launcher's side of --daemon: what the detached server reports on `pipe`.
int awaitDaemonStartup(int pipe, pid_t intermediate, const std::string& program) {
  std::string report;
  char buffer[512];
  ssize_t count = 0;
  while ((count = ::read(pipe, buffer, sizeof buffer)) > 0) report.append(buffer, static_cast<std::size_t>(count));
  ::close(pipe);
  ::waitpid(intermediate, nullptr, 0);
  if (report == "ready") return Poco::Util::Application::EXIT_OK;
  const std::size_t space = report.find(' ');
  if (report.rfind("failed ", 0) != 0 || space == std::string::npos) {
    std::cerr << program << ": the daemon ended during start-up without a word\n";
    return Poco::Util::Application::EXIT_SOFTWARE;
  }
  const std::size_t reason = report.find(' ', space + 1);
  std::cerr << program << ": " << report.substr(reason + 1) << '\n';
  return std::stoi(report.substr(space + 1, reason - space - 1));
}

std::map<std::string, std::string> environmentVariables() {
  std::map<std::string, std::string> variables;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string variable = *entry;
    const std::size_t equals = variable.find('=');
    if (equals != std::string::npos) variables[variable.substr(0, equals)] = variable.substr(equals + 1);
  }
  return variables;
}

// A second signal during the drain: requests in progress get this long, then are cut.
constexpr std::chrono::milliseconds kHurriedGrace{300};

sigset_t terminationSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  if (!std::getenv("POCO_ENABLE_DEBUGGER")) sigaddset(&signals, SIGINT);  // as POCO waits for them
  sigaddset(&signals, SIGQUIT);
  sigaddset(&signals, SIGTERM);
  return signals;
}

// waitForTerminationRequest() takes SIGTERM, SIGINT and SIGQUIT with sigwait, blocking them only
// then: one that came during start-up killed the process (exit 143) mid-migration. Blocked before
// any thread starts, and so in every thread, it waits until the service is up and stops it cleanly.
void holdTerminationSignals() {
  const sigset_t signals = terminationSignals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
}

/// The termination signal that comes within `timeout`, or 0.
int awaitTerminationSignal(std::chrono::milliseconds timeout) {
  const sigset_t signals = terminationSignals();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    const std::int64_t nanos = std::max<std::int64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - std::chrono::steady_clock::now()).count(), 0);
    const timespec wait{.tv_sec = nanos / 1'000'000'000, .tv_nsec = nanos % 1'000'000'000};
    const int signal = ::sigtimedwait(&signals, nullptr, &wait);
    if (signal > 0) return signal;
    if (errno != EINTR) return 0;  // EAGAIN: the time is up
  }
}

// Someone at a terminal pressed Ctrl-C and waits: say why the service does not stop yet. One
// write, so that the log writer's lines cannot split it.
void tellTheTerminalHowToSkipTheDrain(const ServerSettings& server) {
  if (!::isatty(STDIN_FILENO) && !::isatty(STDERR_FILENO)) return;
  std::ostringstream line;
  line << "Draining for " << static_cast<double>(server.drainDelay.count()) / 1000
       << " s before stopping (readiness answers 503); press Ctrl-C again to stop now\n";
  std::cerr << line.str() << std::flush;
}

// Load balancers and Kubernetes Services go on sending new connections for a moment after the
// signal: keep serving them while readiness says 503, so that they take this instance out first.
// Returns false when a second signal cut the drain short: the operator wants the service gone now.
bool drain(Runtime& runtime, const ServerSettings& server, const Logger& logger) {
  if (server.drainDelay.count() == 0) return true;
  runtime.beginDrain();
  logger.info("Draining: not ready, still serving", {{"drain_delay_ms", static_cast<std::int64_t>(server.drainDelay.count())}});
  tellTheTerminalHowToSkipTheDrain(server);
  const int signal = awaitTerminationSignal(server.drainDelay);
  if (signal == 0) return true;
  logger.info("Second termination signal: stopping now", {{"signal", std::string("SIG") + ::sigabbrev_np(signal)}});
  return false;
}

}  // namespace

int ServiceHost::launch(const std::vector<std::string>& args) {
  if (const auto problem = commandLineProblem(args)) {
    const std::string name = std::filesystem::path(args.front()).filename().string();
    Logger(name, LogFormat::Json, LogLevel::Info, makeBootstrapSink(name, false))
        .error("Invalid command line; see --help", {{"reason", *problem}});
    return EXIT_USAGE;
  }
  if (printsAndExits(args)) {  // to the terminal: no detaching
    std::vector<std::string> foreground;
    std::copy_if(args.begin(), args.end(), std::back_inserter(foreground), [](const std::string& arg) { return arg != "--daemon"; });
    return run(foreground);
  }
  if (std::find(args.begin(), args.end(), "--daemon") != args.end()) {
    int report[2];
    if (::pipe(report) != 0) throw Poco::SystemException("cannot create a pipe");
    const pid_t intermediate = ::fork();
    if (intermediate < 0) throw Poco::SystemException("cannot fork");
    if (intermediate > 0) {
      ::close(report[1]);
      return awaitDaemonStartup(report[0], intermediate, std::filesystem::path(args.front()).filename().string());
    }
    ::close(report[0]);
    startupReport_ = report[1];  // POCO forks the daemon from here; the daemon inherits this end
  }
  return run(args);
}

bool ServiceHost::printsAndExits(const std::vector<std::string>& args) {
  return std::any_of(args.begin(), args.end(), [](const std::string& arg) {
    return arg == "--help" || arg == "-h" || arg.starts_with(kSettingsReferenceOption);
  });
}

std::optional<std::string> ServiceHost::commandLineProblem(const std::vector<std::string>& args) {
  Poco::Util::OptionSet known;
  defineOptions(known);
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string& arg = args[i];
    // POCO writes the pid file after detaching, where a failure would be seen by nobody.
    if (arg.rfind("--pidfile=", 0) == 0 && !std::ofstream(arg.substr(10), std::ios::app)) {
      return "cannot write the pid file " + arg.substr(10);
    }
    if (arg.starts_with(kSettingsReferenceOption) && !referenceFormat(arg.substr(kSettingsReferenceOption.size()))) {
      return arg + ": the format is help, markdown or ini";
    }
    const bool isLong = arg.rfind("--", 0) == 0;
    if (!isLong && (arg.size() < 2 || arg[0] != '-')) return "unexpected argument " + arg;
    const std::string name = arg.substr(isLong ? 2 : 1, arg.find('=') - (isLong ? 2 : 1));
    try {
      const Poco::Util::Option& option = known.getOption(name, !isLong);
      const bool hasValue = arg.find('=') != std::string::npos;
      if (option.argumentRequired() && !hasValue) return arg + " needs a value: " + arg + "=...";
      if (!option.takesArgument() && hasValue) return arg + ": --" + option.fullName() + " takes no value";
    } catch (const Poco::Exception&) {
      return "unknown option " + arg;
    }
  }
  return std::nullopt;
}

void ServiceHost::defineOptions(Poco::Util::OptionSet& options) {
  ServerApplication::defineOptions(options);
  options.addOption(Poco::Util::Option("help", "h", "Show this help and exit.").required(false).repeatable(false));
  options.addOption(Poco::Util::Option("config", "", "Read the configuration from FILE instead of <executable>.ini.")
                        .required(false)
                        .repeatable(false)
                        .argument("FILE"));
  options.addOption(Poco::Util::Option("settings-reference", "",
                                       "Print every setting of the host and of the plugins in [plugins] directory, "
                                       "as FORMAT (help, markdown: docs/api.md's tables, ini: an .ini of the "
                                       "defaults), and exit.")
                        .required(false)
                        .repeatable(false)
                        .argument("FORMAT"));
}

void ServiceHost::handleOption(const std::string& name, const std::string& value) {
  ServerApplication::handleOption(name, value);
  if (name == "help") {
    helpRequested_ = true;  // and the options go on being read: --help lists the plugins --config names
  } else if (name == "config") {
    configFile_ = value;
  } else if (name == "settings-reference") {
    referenceFormat_ = referenceFormat(value);
  }
}

void ServiceHost::displayHelp() {
  Poco::Util::HelpFormatter help(options());
  help.setCommand(commandName());
  help.setUsage("[--config=FILE] [--daemon --pidfile=FILE]");
  help.setHeader("Serves the routes of the plugins named in the configuration file.");
  help.setFooter("A file may stack on another: [config] base = FILE (relative to it) is read first, and the "
                 "file's own keys replace the base's. Every key, in the file or not, can be set by an "
                 "environment variable <SERVICE>_<SECTION>_<KEY> ('-' and '.' as '_'): storage.pool_size of "
                 "service order-service is ORDER_SERVICE_STORAGE_POOL_SIZE, storage-sqlite.max_page_count is "
                 "ORDER_SERVICE_STORAGE_SQLITE_MAX_PAGE_COUNT. See docs/api.md#configuration.");
  help.format(std::cout);
  std::cout << '\n' << settingsHelp();
}

// The host's settings, then those of the plugins the configuration names, read from their
// libraries without creating the plugins.
std::string ServiceHost::settingsHelp() {
  std::vector<SettingsSection> sections = hostSections();
  std::vector<std::string> problems;
  PluginLibraries libraries;  // holds the plugins' schemas until they are printed
  try {
    const HostSettings settings = loadSettings();
    const auto plugins = namedPluginSections(libraries, settings.storage, settings.routes, problems);
    sections.insert(sections.end(), plugins.begin(), plugins.end());
  } catch (const std::exception& error) {
    problems.push_back(std::string("the configuration could not be read: ") + error.what());
  }
  std::string text = settingsReference(sections, ReferenceFormat::Help);
  for (const std::string& problem : problems) text += "\nThe plugins' settings are not all listed: " + problem + "\n";
  return text;
}

// Every setting of the host and of each plugin in [plugins] directory: what docs/api.md's tables
// and config/order-service.ini's comments are generated from (scripts/settings-docs.sh).
int ServiceHost::printSettingsReference(ReferenceFormat format) {
  std::vector<SettingsSection> sections = hostSections();
  std::vector<std::string> problems;
  PluginLibraries libraries;
  try {
    loadConfiguration();
    const auto plugins = directoryPluginSections(libraries, config().getString("plugins.directory", ""), problems);
    sections.insert(sections.end(), plugins.begin(), plugins.end());
  } catch (const std::exception& error) {
    problems.push_back(error.what());
  }
  for (const std::string& problem : problems) std::cerr << commandName() << ": " << problem << '\n';
  if (!problems.empty()) return EXIT_CONFIG;
  std::cout << settingsReference(sections, format);
  return EXIT_OK;
}

// The files first (an overlay above the base it names), then the variables that name a known section.
void ServiceHost::loadConfiguration() {
  const std::string baseName = config().getString("application.baseName");
  const std::string file =
      configFile_.empty() ? config().getString("application.dir") + baseName + ".ini" : configFile_;
  Poco::AutoPtr<Poco::Util::LayeredConfiguration> files = new Poco::Util::LayeredConfiguration;
  int priority = PRIO_DEFAULT;
  for (const auto& layer : readConfigFiles(file)) {
    config().add(layer, priority);
    files->add(layer, priority++);
  }
  const std::string prefix = environmentPrefix(files->getString("service.name", baseName));
  const EnvironmentOverrides environment = environmentOverrides(*files, prefix, environmentVariables());
  Poco::AutoPtr<Poco::Util::MapConfiguration> overrides = new Poco::Util::MapConfiguration;
  for (const auto& [key, value] : environment.values) overrides->setString(key, value);
  config().add(overrides, kEnvironmentPriority);
  requireResolvedReferences(config(), *files);
  requireResolvedReferences(config(), *overrides);
  configPath_ = file;
  environment_ = environment;
}

HostSettings ServiceHost::loadSettings() {
  loadConfiguration();
  HostSettings settings = readSettings(config(), config().getString("application.baseName"));
  settings.deprecatedStorageVariables = environment_.deprecated;
  return settings;
}

// Old names still work, and a misspelt key or variable is not silently ignored. The storage
// plugin's keys left in [storage] and the plugins' own sections are checked as they load (Runtime).
void ServiceHost::logConfigurationNotes(const HostSettings& settings, const Logger& logger) const {
  for (const std::string& warning : settings.warnings) logger.warning("Deprecated setting", {{"detail", warning}});
  for (const std::string& warning : settings.unknownSettings) logger.warning("Unknown setting; ignored", {{"detail", warning}});
  for (const std::string& name : environment_.unmatched) {
    logger.warning("Environment variable names no configuration section; ignored", {{"variable", name}});
  }
}

int ServiceHost::main(const std::vector<std::string>&) {
  if (helpRequested_) {
    displayHelp();
    return EXIT_OK;
  }
  if (referenceFormat_) return printSettingsReference(*referenceFormat_);
  holdTerminationSignals();
  const bool daemon = config().getBool("application.runAsDaemon", false);
  const std::string baseName = config().getString("application.baseName");
  const Logger bootstrap(baseName, LogFormat::Json, LogLevel::Info, makeBootstrapSink(baseName, daemon));
  HostSettings settings;
  try {
    settings = loadSettings();
  } catch (const std::exception& error) {
    return startupFailed(bootstrap, EXIT_CONFIG, "Invalid configuration", error.what());
  }
  // Request threads only queue their lines; a log output that stalls or fails costs lines, not requests.
  const std::shared_ptr<AsyncLogSink> sink = makeServiceLogSink(settings.logging, settings.serviceName, daemon);
  const Logger logger(settings.serviceName, settings.logging.format, settings.logging.level, sink);
  logConfigurationNotes(settings, logger);
  return serve(settings, logger, *sink);
}

int ServiceHost::startupFailed(const Logger& logger, int code, std::string_view message, const std::string& reason) {
  logger.error(message, {{"reason", reason}});
  reportStartup("failed " + std::to_string(code) + " " + std::string(message) + ": " + reason);
  return code;
}

void ServiceHost::reportStartup(const std::string& report) {
  if (startupReport_ < 0) return;
  [[maybe_unused]] const ssize_t written = ::write(startupReport_, report.data(), report.size());
  ::close(startupReport_);
  startupReport_ = -1;
}

int ServiceHost::serve(const HostSettings& settings, const Logger& logger, AsyncLogSink& logSink) {
  std::unique_ptr<Runtime> runtime;
  try {
    runtime = std::make_unique<Runtime>(settings, config(), logger, logSink.dropped());
    runtime->start();
  } catch (const Poco::Net::NetException& error) {
    return startupFailed(logger, EXIT_UNAVAILABLE, "Cannot listen",
                         settings.server.host + ":" + std::to_string(settings.server.port) + ": " + error.displayText());
  } catch (const std::exception& error) {
    return startupFailed(logger, EXIT_CONFIG, "Start-up failed", error.what());
  }
  logger.info("Service started", {{"host", settings.server.host},
                                  {"port", runtime->port()},
                                  {"config", configPath_},
                                  {"plugin_api_version", kPluginApiVersion},
                                  {"io_threads", settings.server.ioThreads},
                                  {"workers", workerThreads(settings.server, settings.storage, settings.pool)},
                                  {"max_connections", settings.server.maxConnections}});
  reportStartup("ready");
  waitForTerminationRequest();
  const bool drained = drain(*runtime, settings.server, logger);
  const auto grace = drained ? settings.server.shutdownGrace : std::min(kHurriedGrace, settings.server.shutdownGrace);
  logger.info("Shutting down", {{"grace_ms", static_cast<std::int64_t>(grace.count())}});
  if (!runtime->stop(grace)) {
    // A request thread may still use plugin code: unloading it now could crash, so leave at once.
    (drained ? logger.error("Requests still running after the grace period; exiting without waiting for them")
             : logger.warning("Requests still running were cut short, as the second signal asked"));
    logSink.flush();
    std::_Exit(drained ? EXIT_SOFTWARE : EXIT_OK);
  }
  runtime.reset();
  logger.info("Service stopped");
  return EXIT_OK;
}

}  // namespace svc::host
