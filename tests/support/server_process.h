#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace test_support {

using namespace std::chrono_literals;

/// The server's standard input: /dev/null, whatever the test's own is, or a pseudo-terminal, as
/// when an operator starts the server from a shell.
enum class StandardInput { Null, Terminal };

/// The real order-service executable, started with `args` and extra environment variables;
/// its stdout and stderr are captured line by line. Killed when destroyed.
class ServerProcess {
 public:
  explicit ServerProcess(std::vector<std::string> args, std::map<std::string, std::string> environment = {},
                         StandardInput input = StandardInput::Null);
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  /// The port from the "Service started" line; throws if it does not come within `timeout`.
  std::uint16_t waitUntilServing(std::chrono::milliseconds timeout = 15s);
  /// The first line containing `text` (now or within `timeout`).
  std::optional<std::string> waitForLine(std::string_view text, std::chrono::milliseconds timeout = 5s);
  /// Whether `count` lines containing `text` arrive within `timeout`.
  bool waitForLines(std::string_view text, std::size_t count, std::chrono::milliseconds timeout = 5s);
  std::vector<std::string> lines() const;
  std::string output() const;

  /// Stops reading the server's output (stdout and stderr): once the pipe's buffer is full, the
  /// server's writes to it stall, as when a log shipper stops reading. `resumeReading` reads on.
  void pauseReading();
  void resumeReading();

  void signal(int number) const;
  /// The exit code, or nothing when the process is still running after `timeout`.
  std::optional<int> waitForExit(std::chrono::milliseconds timeout = 15s);
  pid_t pid() const { return pid_; }
  /// The CPU time the process has used so far, its threads' user and system time together.
  std::chrono::milliseconds cpuTime() const;

 private:
  void readOutput(int fd);

  pid_t pid_ = -1;
  int terminal_ = -1;  ///< with StandardInput::Terminal: the pseudo-terminal's master side, open while the server runs
  std::optional<int> exitCode_;
  mutable std::mutex mutex_;
  std::condition_variable newLine_;
  std::vector<std::string> lines_;
  bool outputClosed_ = false;
  bool readingPaused_ = false;
  std::condition_variable readingResumed_;
  std::thread reader_;
};

/// The path of the order-service executable under test.
std::string serverExecutable();

/// A TCP port on 127.0.0.1 reserved for this test process until it exits, even while nothing
/// listens on it (a server restarting): for a server whose log does not tell its port, or one that
/// must come back on the same port.
std::uint16_t unusedPort();

}  // namespace test_support
