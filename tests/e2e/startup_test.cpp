// Start-up and shutdown as an operator sees them: exit codes, the one log line that explains
// a refusal, and a clean stop on SIGTERM.
#include <gtest/gtest.h>

#include <sys/prctl.h>
#include <sys/wait.h>

#include <fstream>
#include <future>
#include <regex>

#include <Poco/Data/Statement.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/ServerSocket.h>

#include "e2e/orders_support.h"
#include "support/eventually.h"
#include "support/service_fixture.h"
#include "svc/timestamp.h"

using namespace test_support;
using namespace std::chrono_literals;

namespace {

constexpr int kExitConfig = 78;

class Startup : public ServiceTest {
 protected:
  /// Runs the server with `args` until it exits; returns the exit code.
  int run(std::vector<std::string> args, std::map<std::string, std::string> environment = {}) {
    server_ = std::make_unique<ServerProcess>(std::move(args), std::move(environment));
    return server_->waitForExit(20s).value_or(-1);
  }

  int runWithConfig() { return run({"--config=" + config_->write(directory_.path()).string()}); }

  /// The single ERROR line of a refused start; fails unless there is exactly one.
  std::string errorLine() const {
    std::vector<std::string> errors;
    for (const std::string& line : server_->lines()) {
      if (line.find("\"level\":\"ERROR\"") != std::string::npos) errors.push_back(line);
    }
    EXPECT_EQ(errors.size(), 1u) << server_->output();
    return errors.empty() ? "" : errors.front();
  }

  /// A copy of the built migrations root, made the server's.
  std::filesystem::path copyOfMigrations() {
    const std::filesystem::path root = directory_.path() / "migrations";
    std::filesystem::copy(std::string(ORDER_SERVICE_APP_DIR) + "/migrations", root,
                          std::filesystem::copy_options::recursive);
    config_->set("plugins.migrations", root.string());
    return root;
  }

  void expectRefused(const std::vector<std::string>& mentions) {
    EXPECT_EQ(runWithConfig(), kExitConfig) << server_->output();
    const std::string line = errorLine();
    for (const std::string& text : mentions) EXPECT_NE(line.find(text), std::string::npos) << line;
  }
};

}  // namespace

TEST_F(Startup, ExplainsAMissingConfigurationFile) {
  EXPECT_EQ(run({"--config=/nonexistent/service.ini"}), kExitConfig);
  EXPECT_NE(errorLine().find("/nonexistent/service.ini does not exist"), std::string::npos);
}

TEST_F(Startup, ExplainsAnInvalidSetting) {
  config_->set("server.port", "eighty");
  expectRefused({"server.port", "eighty"});
}

struct UnusablePlugin {
  std::string test;
  std::string line;     ///< plugins.route.<name> = <library>
  std::string library;
  std::string reason;   ///< in the error line, beside the library
};

void PrintTo(const UnusablePlugin& plugin, std::ostream* out) { *out << plugin.library; }

class StartupWithPlugin : public Startup, public testing::WithParamInterface<UnusablePlugin> {};

TEST_P(StartupWithPlugin, ExplainsWhyItCannotBeUsed) {
  config_->set("plugins.route." + GetParam().line, GetParam().library);
  expectRefused({GetParam().library, GetParam().reason});
}

const std::string kTestPlugins = TEST_PLUGIN_DIR;

INSTANTIATE_TEST_SUITE_P(
    Startup, StartupWithPlugin,
    testing::Values(
        UnusablePlugin{"Missing", "extra", "/nonexistent/libextra.so", "no such file"},
        UnusablePlugin{"NotAPlugin", "extra", kTestPlugins + "/libtest-not-a-plugin.so", "not a plugin"},
        UnusablePlugin{"WrongApiVersion", "extra", kTestPlugins + "/libtest-wrong-version.so", "plugin API version"},
        UnusablePlugin{"FactoryThrows", "extra", kTestPlugins + "/libtest-throwing-factory.so", "setting x is missing"},
        UnusablePlugin{"RouteTaken", "echo2", kTestPlugins + "/libtest-echo.so", "GET /echo/{word} is already served"}),
    [](const testing::TestParamInfo<UnusablePlugin>& plugin) { return plugin.param.test; });

TEST_F(Startup, ExplainsAnUnresolvedReferenceInAPluginSection) {
  config_->set("storage-sqlite.database", "${nowhere}/orders.db");
  expectRefused({"storage-sqlite.database", "${nowhere}"});
}

TEST_F(Startup, ExplainsAPostgresConnectionStringPocoCannotPass) {
  config_->set("plugins.storage", "storage-postgres");
  config_->set("storage-postgres.connection", "host=127.0.0.1 dbname=orders password='two words'");
  expectRefused({"the value of password has a space", "PGPASSWORD"});
  config_->set("storage-postgres.connection", "postgresql://orders@127.0.0.1/orders");
  expectRefused({"key=value", "postgresql:// URI"});
}

TEST_F(Startup, ExplainsAPluginSettingThatIsNotANumber) {
  config_->set("orders.max_batch", "lots");
  expectRefused({"orders.max_batch must be an integer from 1 to 1024", "lots"});
}

TEST_F(Startup, ExplainsABrokenMigration) {
  const std::filesystem::path root = copyOfMigrations();
  std::ofstream(root / "orders" / database_->backendName() / "999_broken.sql") << "CREATE TABLOID nonsense;";
  expectRefused({"migration orders/999_broken.sql failed"});
}

TEST_F(Startup, ExplainsABrokenMigrationOfAnotherPlugin) {
  const std::filesystem::path root = copyOfMigrations();
  std::filesystem::create_directories(root / "echo" / database_->backendName());
  std::ofstream(root / "echo" / database_->backendName() / "001_broken.sql") << "CREATE TABLOID nonsense;";
  expectRefused({"migration echo/001_broken.sql failed"});
}

TEST_F(Startup, ExplainsTwoMigrationsOfOneVersion) {
  const std::filesystem::path root = copyOfMigrations();
  std::ofstream(root / "orders" / database_->backendName() / "002_again.sql") << "SELECT 1;";
  expectRefused({"002_again.sql", "have the same version"});
}

TEST_F(Startup, ExplainsAMissingMigrationsFolder) {
  config_->set("plugins.migrations", "/nonexistent/migrations");
  expectRefused({"migrations folder /nonexistent/migrations does not exist"});
}

// An .ini of the release before per-plugin migrations: [storage] migrations named the backend's folder.
TEST_F(Startup, StillStartsWithTheDeprecatedStorageMigrationsKey) {
  config_->set("plugins.migrations", "");  // the shipped base file has it
  config_->set("storage.migrations", std::string(ORDER_SERVICE_APP_DIR) + "/migrations/" + database_->backendName());
  startServer();
  const auto deprecated = logLines("\"Deprecated setting\"");
  ASSERT_EQ(deprecated.size(), 1u) << server_->output();
  EXPECT_NE(deprecated[0].find("detail")->text().find("plugins.migrations = " + std::string(ORDER_SERVICE_APP_DIR) +
                                                        "/migrations"),
            std::string::npos);
  EXPECT_EQ(client().postJson("/orders", kSampleOrder).status, 201);
  EXPECT_EQ(logLines("Applied database migration").size(), ordersMigrationFiles(*database_));
}

TEST_F(Startup, RefusesUnknownArgumentsAndHelpsWhenAsked) {
  EXPECT_EQ(run({"stray-argument"}), 64);
  EXPECT_NE(errorLine().find("unexpected argument stray-argument"), std::string::npos);
  EXPECT_EQ(run({"--bogus"}), 64);
  EXPECT_NE(errorLine().find("unknown option --bogus"), std::string::npos);
  EXPECT_EQ(run({"--config"}), 64);
  EXPECT_NE(errorLine().find("--config needs a value"), std::string::npos);
  EXPECT_EQ(run({"--daemon=yes"}), 64);
  EXPECT_NE(errorLine().find("--daemon takes no value"), std::string::npos);
  EXPECT_EQ(run({"--pidfile=/nonexistent/service.pid"}), 64);
  EXPECT_NE(errorLine().find("cannot write the pid file"), std::string::npos);
  EXPECT_EQ(run({"--settings-reference=pdf"}), 64);
  EXPECT_NE(errorLine().find("--settings-reference=pdf: the format is help, markdown or ini"), std::string::npos);
  EXPECT_EQ(run({"--help"}), 0);
  EXPECT_NE(server_->output().find("--config=FILE"), std::string::npos) << server_->output();
  EXPECT_NE(server_->output().find("--daemon"), std::string::npos) << server_->output();
}

TEST_F(Startup, HelpListsTheSettingsOfTheHostAndOfThePluginsTheConfigurationNames) {
  EXPECT_EQ(run({"--help", "--config=" + config_->write(directory_.path()).string()}), 0);
  const std::string help = server_->output();
  const std::string storage = database_->storagePlugin();
  const std::vector<std::string> listed{"--settings-reference=FORMAT",
                                        "[server] (host)",
                                        "  max_threads               integer 0..4096, default 0",
                                        "[" + storage + "] (storage plugin lib" + storage + ".so)",
                                        "[orders] (route plugin liborders.so)",
                                        "  max_batch                 integer 1..1024",
                                        "[echo] (route plugin libtest-echo.so)",
                                        "What GET /echo/{word} greets with"};
  for (const std::string& text : listed) {
    EXPECT_NE(help.find(text), std::string::npos) << text << " in:\n" << help;
  }
  EXPECT_EQ(help.find("not all listed"), std::string::npos) << help;
}

TEST_F(Startup, HelpWithoutAReadableConfigurationListsTheHostsSettings) {
  EXPECT_EQ(run({"--config=/nonexistent/service.ini", "--help"}), 0);
  const std::string help = server_->output();
  EXPECT_NE(help.find("  pool_size                 integer 1..4096, default 16"), std::string::npos) << help;
  EXPECT_NE(help.find("The plugins' settings are not all listed: the configuration could not be read: "
                      "configuration file /nonexistent/service.ini does not exist"),
            std::string::npos)
      << help;
  EXPECT_EQ(help.find("[orders]"), std::string::npos) << help;
}

TEST_F(Startup, ExplainsAPortInUse) {
  Poco::Net::ServerSocket taken(Poco::Net::SocketAddress("127.0.0.1", 0));
  config_->set("server.port", std::to_string(taken.address().port()));
  EXPECT_EQ(runWithConfig(), 69);
  EXPECT_NE(errorLine().find("Cannot listen"), std::string::npos);
}

TEST_F(Startup, StopsOnSigtermAfterFinishingRequestsInProgress) {
  startServer();
  auto slow = std::async(std::launch::async, [this] { return client().get("/echo/sleep/1500"); });
  ASSERT_TRUE(server_->waitForLine("\"Echo sleeping\""));
  server_->signal(SIGTERM);
  ASSERT_TRUE(server_->waitForLine("\"Shutting down\""));
  EXPECT_TRUE(eventually([&] {
    try {
      HttpClient(port_, 1s).get("/health");
      return false;
    } catch (const Poco::Exception&) {
      return true;
    }
  }, 200ms)) << "new connections are refused";
  const HttpResponse finished = slow.get();
  EXPECT_EQ(finished.status, 200);
  EXPECT_EQ(server_->waitForExit(), 0);
  EXPECT_TRUE(server_->waitForLine("\"Service stopped\""));
}

TEST_F(Startup, StopsCleanlyOnASigtermThatComesDuringStartUp) {
  if (backendUnderTest() != Backend::Sqlite) GTEST_SKIP() << "SQLite only: the test holds the file's lock";
  config_->set("storage-sqlite.busy_timeout_ms", "20000");  // start-up waits as long as the test holds the lock
  Poco::Data::Session holder = database_->connect();
  holder << "BEGIN EXCLUSIVE", Poco::Data::Keywords::now;
  server_ = std::make_unique<ServerProcess>(std::vector<std::string>{"--config=" + config_->write(directory_.path()).string()});
  ASSERT_TRUE(server_->waitForLine("\"Loaded route plugin\"")) << server_->output();
  server_->signal(SIGTERM);
  const svc::EpochMicros released = svc::nowEpochMicros();
  holder << "ROLLBACK", Poco::Data::Keywords::now;
  EXPECT_EQ(server_->waitForExit(), 0) << "killed instead of stopped: " << server_->output();
  const auto schemaCurrent = server_->waitForLine("\"Database schema is current\"");
  ASSERT_TRUE(schemaCurrent) << "start-up finished its work first";
  // The log's timestamps have milliseconds.
  EXPECT_GE(*svc::parseTimestamp(svc::json::parse(*schemaCurrent).find("timestamp")->text()), released / 1000 * 1000)
      << "start-up did not wait for the lock: the signal may have come after it";
  EXPECT_TRUE(server_->waitForLine("\"Service stopped\""));
}

namespace {

std::string readFile(const std::filesystem::path& file) {
  std::ifstream in(file);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

TEST_F(Startup, RunsAsADaemonUntilSigterm) {
  // The detached server is reparented to us, so that we can read its exit code.
  ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  const auto log = directory_.path() / "service.log";
  const auto pidFile = directory_.path() / "service.pid";
  config_->set("logging.file", log.string());
  const std::string ini = config_->write(directory_.path()).string();
  const auto relative = [](const std::filesystem::path& path) { return std::filesystem::relative(path).string(); };

  EXPECT_EQ(run({"--daemon", "--pidfile=" + relative(pidFile), "--config=" + relative(ini)}), 0);
  ASSERT_TRUE(eventually([&] { return readFile(log).find("Service started") != std::string::npos; })) << readFile(log);
  const pid_t daemon = std::stoi(readFile(pidFile));
  std::smatch port;
  const std::string started = readFile(log);
  ASSERT_TRUE(std::regex_search(started, port, std::regex(R"("port":(\d+))")));
  EXPECT_EQ(HttpClient(static_cast<std::uint16_t>(std::stoi(port[1]))).get("/health").status, 200);

  kill(daemon, SIGTERM);
  int status = -1;
  ASSERT_TRUE(eventually([&] { return waitpid(daemon, &status, WNOHANG) == daemon; })) << "still running";
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_FALSE(std::filesystem::exists(pidFile));
  EXPECT_NE(readFile(log).find("Service stopped"), std::string::npos);
}

TEST_F(Startup, ClosesIdleConnectionsAtOnceOnSigterm) {
  startServer();
  HttpClient idle = client();
  ASSERT_EQ(idle.get("/health").status, 200);  // the connection stays open (keep-alive)
  const auto started = std::chrono::steady_clock::now();
  server_->signal(SIGTERM);
  EXPECT_EQ(server_->waitForExit(), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1s) << "an idle keep-alive connection delayed the stop";
}

TEST_F(Startup, ExitsWhenTheGracePeriodEndsWithARequestStillRunning) {
  config_->set("server.shutdown_grace_ms", "500");
  startServer();
  auto stuck = std::async(std::launch::async, [this] {
    try {
      return client().get("/echo/sleep/5000").status;
    } catch (const Poco::Exception&) {
      return 0;
    }
  });
  ASSERT_TRUE(server_->waitForLine("\"Echo sleeping\""));
  const auto started = std::chrono::steady_clock::now();
  server_->signal(SIGTERM);
  EXPECT_EQ(server_->waitForExit(), 70);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1500ms);
  EXPECT_TRUE(server_->waitForLine("Requests still running after the grace period"));
  EXPECT_EQ(stuck.get(), 0) << "the stuck request was cut off";
}

// Ctrl-C in a terminal, then Ctrl-C again: the operator does not wait out the drain.
TEST_F(Startup, ASecondSignalDuringTheDrainStopsAtOnce) {
  config_->set("server.drain_delay_ms", "60000");
  server_ = std::make_unique<ServerProcess>(
      std::vector<std::string>{"--config=" + config_->write(directory_.path()).string()},
      std::map<std::string, std::string>{}, StandardInput::Terminal);
  port_ = server_->waitUntilServing();
  server_->signal(SIGTERM);
  ASSERT_TRUE(server_->waitForLine("\"Draining")) << server_->output();
  EXPECT_TRUE(server_->waitForLine("Draining for 60 s before stopping (readiness answers 503); press Ctrl-C again to "
                                   "stop now"))
      << "a terminal is told how to skip the drain: " << server_->output();
  auto inFlight = std::async(std::launch::async, [this] {
    try {
      return client().get("/echo/sleep/10000").status;
    } catch (const Poco::Exception&) {
      return 0;
    }
  });
  ASSERT_TRUE(server_->waitForLine("Echo sleeping")) << "the request reaches its handler";

  const auto signalledAgain = std::chrono::steady_clock::now();
  server_->signal(SIGTERM);
  const std::optional<int> code = server_->waitForExit(5s);
  const auto took = std::chrono::steady_clock::now() - signalledAgain;
  ASSERT_TRUE(code.has_value()) << "still draining after the second signal: " << server_->output();
  EXPECT_EQ(*code, 0) << server_->output();
  EXPECT_LT(took, 1s);
  const auto stoppingNow = server_->waitForLine("\"Second termination signal: stopping now\"");
  ASSERT_TRUE(stoppingNow) << server_->output();
  EXPECT_NE(stoppingNow->find("\"signal\":\"SIGTERM\""), std::string::npos) << *stoppingNow;
  const auto shuttingDown = server_->waitForLine("\"Shutting down\"");
  ASSERT_TRUE(shuttingDown);
  EXPECT_NE(shuttingDown->find("\"grace_ms\":300"), std::string::npos) << *shuttingDown;
  EXPECT_TRUE(server_->waitForLine("Requests still running were cut short")) << server_->output();
  EXPECT_EQ(inFlight.get(), 0) << "the request in progress was cut";
}

TEST_F(Startup, TellsTheLauncherOfADaemonWhyItDidNotStart) {
  config_->set("plugins.route.extra", "/nonexistent/libextra.so");
  const std::string ini = config_->write(directory_.path()).string();
  EXPECT_EQ(run({"--daemon", "--pidfile=" + (directory_.path() / "service.pid").string(), "--config=" + ini}), 78);
  EXPECT_NE(server_->output().find("/nonexistent/libextra.so): no such file"), std::string::npos) << server_->output();
}
