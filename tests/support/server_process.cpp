#include "support/server_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <mutex>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <tuple>
#include <utility>

#include <Poco/Net/ServerSocket.h>

#include "svc/json.h"

extern char** environ;

namespace test_support {

std::string serverExecutable() { return std::string(ORDER_SERVICE_APP_DIR) + "/order-service"; }

// The port stays bound, with SO_REUSEADDR and never listening, until this test process exits:
// the kernel then gives it to no other process's bind(0) or connect(), while a server binding it
// with SO_REUSEADDR (the service, TcpProxy) still takes it. A port that was merely free a moment
// ago went, while a test restarted its user service, to another test's server, which answered
// 404 in its place.
std::uint16_t unusedPort() {
  static std::mutex mutex;
  static std::vector<Poco::Net::ServerSocket> reserved;
  Poco::Net::ServerSocket reservation;
  reservation.bind(Poco::Net::SocketAddress("127.0.0.1", 0), true, false);
  const std::uint16_t port = reservation.address().port();
  std::lock_guard lock(mutex);
  reserved.push_back(reservation);
  return port;
}

namespace {

std::vector<std::string> mergedEnvironment(const std::map<std::string, std::string>& overrides) {
  std::vector<std::string> merged;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string variable = *entry;
    const std::string name = variable.substr(0, variable.find('='));
    if (!overrides.contains(name)) merged.push_back(variable);
  }
  for (const auto& [name, value] : overrides) merged.push_back(name + "=" + value);
  return merged;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> result;
  for (std::string& text : strings) result.push_back(text.data());
  result.push_back(nullptr);
  return result;
}

/// A new pseudo-terminal: its master side and the terminal side a process reads as its input.
std::pair<int, int> openPseudoTerminal() {
  const int master = posix_openpt(O_RDWR | O_NOCTTY);
  char name[128];
  const bool named = master >= 0 && grantpt(master) == 0 && unlockpt(master) == 0 && ptsname_r(master, name, sizeof name) == 0;
  const int terminal = named ? open(name, O_RDWR | O_NOCTTY) : -1;
  if (terminal < 0) {
    const std::string reason = std::strerror(errno);
    if (master >= 0) close(master);
    throw std::runtime_error("cannot open a pseudo-terminal: " + reason);
  }
  return {master, terminal};
}

}  // namespace

// fork and exec rather than posix_spawn, to do two things in the child first: close every
// descriptor the test holds (a listening socket inherited by the server would keep accepting
// for it) and die with the test process, so that a crashed test leaves no server behind.
ServerProcess::ServerProcess(std::vector<std::string> args, std::map<std::string, std::string> environment,
                             StandardInput input) {
  int standardInput = -1;
  if (input == StandardInput::Terminal) std::tie(terminal_, standardInput) = openPseudoTerminal();
  else standardInput = open("/dev/null", O_RDONLY);
  int output[2];
  if (pipe(output) != 0) throw std::runtime_error("pipe failed");
  args.insert(args.begin(), serverExecutable());
  std::vector<std::string> env = mergedEnvironment(environment);
  std::vector<char*> argv = pointers(args);
  std::vector<char*> envp = pointers(env);
  const pid_t parent = getpid();
  pid_ = fork();
  if (pid_ == 0) {  // only async-signal-safe calls until execve
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    dup2(standardInput, STDIN_FILENO);
    dup2(output[1], STDOUT_FILENO);
    dup2(output[1], STDERR_FILENO);
    close_range(3, ~0U, 0);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  close(output[1]);
  close(standardInput);
  if (pid_ < 0) {
    close(output[0]);
    throw std::runtime_error(std::string("cannot start ") + argv[0] + ": " + std::strerror(errno));
  }
  reader_ = std::thread([this, fd = output[0]] { readOutput(fd); });
}

ServerProcess::~ServerProcess() {
  resumeReading();
  if (!exitCode_ && pid_ > 0) {
    kill(pid_, SIGKILL);
    waitForExit(5s);
  }
  if (reader_.joinable()) reader_.join();
  if (terminal_ >= 0) close(terminal_);
}

void ServerProcess::readOutput(int fd) {
  std::string pending;
  char buffer[4096];
  ssize_t count = 0;
  while (true) {
    {
      std::unique_lock lock(mutex_);
      readingResumed_.wait(lock, [&] { return !readingPaused_; });
    }
    if ((count = read(fd, buffer, sizeof buffer)) <= 0) break;
    pending.append(buffer, static_cast<std::size_t>(count));
    std::size_t end = 0;
    while ((end = pending.find('\n')) != std::string::npos) {
      {
        std::lock_guard lock(mutex_);
        lines_.push_back(pending.substr(0, end));
      }
      newLine_.notify_all();
      pending.erase(0, end + 1);
    }
  }
  close(fd);
  std::lock_guard lock(mutex_);
  if (!pending.empty()) lines_.push_back(pending);
  outputClosed_ = true;
  newLine_.notify_all();
}

std::optional<std::string> ServerProcess::waitForLine(std::string_view text, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  std::optional<std::string> found;
  newLine_.wait_for(lock, timeout, [&] {
    for (const std::string& line : lines_) {
      if (line.find(text) != std::string::npos) {
        found = line;
        return true;
      }
    }
    return outputClosed_;
  });
  return found;
}

bool ServerProcess::waitForLines(std::string_view text, std::size_t count, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return newLine_.wait_for(lock, timeout, [&] {
    std::size_t found = 0;
    for (const std::string& line : lines_) found += line.find(text) != std::string::npos;
    return found >= count || outputClosed_;
  }) && std::count_if(lines_.begin(), lines_.end(), [&](const std::string& line) {
    return line.find(text) != std::string::npos;
  }) >= static_cast<std::ptrdiff_t>(count);
}

std::uint16_t ServerProcess::waitUntilServing(std::chrono::milliseconds timeout) {
  const std::optional<std::string> started = waitForLine("Service started", timeout);
  if (!started) throw std::runtime_error("the server did not start; its output:\n" + output());
  static const std::regex port(R"("?port"?[=:](\d+))");  // JSON or text log format
  std::smatch match;
  if (!std::regex_search(*started, match, port)) throw std::runtime_error("no port in: " + *started);
  return static_cast<std::uint16_t>(std::stoi(match[1]));
}

std::vector<std::string> ServerProcess::lines() const {
  std::lock_guard lock(mutex_);
  return lines_;
}

std::string ServerProcess::output() const {
  std::string text;
  for (const std::string& line : lines()) text += line + "\n";
  return text;
}

void ServerProcess::pauseReading() {
  std::lock_guard lock(mutex_);
  readingPaused_ = true;
}

void ServerProcess::resumeReading() {
  {
    std::lock_guard lock(mutex_);
    readingPaused_ = false;
  }
  readingResumed_.notify_all();
}

void ServerProcess::signal(int number) const { kill(pid_, number); }

// /proc/PID/stat: utime and stime are the 12th and 13th fields after the command's ")".
std::chrono::milliseconds ServerProcess::cpuTime() const {
  std::ifstream file("/proc/" + std::to_string(pid_) + "/stat");
  const std::string stat((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  const std::size_t afterName = stat.rfind(')');
  if (afterName == std::string::npos) throw std::runtime_error("no /proc/" + std::to_string(pid_) + "/stat");
  std::istringstream fields(stat.substr(afterName + 1));
  std::string skipped;
  for (int i = 0; i < 11; ++i) fields >> skipped;
  long long userTicks = 0;
  long long systemTicks = 0;
  fields >> userTicks >> systemTicks;
  return std::chrono::milliseconds((userTicks + systemTicks) * 1000 / sysconf(_SC_CLK_TCK));
}

std::optional<int> ServerProcess::waitForExit(std::chrono::milliseconds timeout) {
  if (exitCode_) return exitCode_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  do {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      exitCode_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      std::unique_lock lock(mutex_);  // and its last words are read, unless nobody reads them
      newLine_.wait_until(lock, deadline, [&] { return outputClosed_ || readingPaused_; });
      return exitCode_;
    }
    std::this_thread::sleep_for(10ms);
  } while (std::chrono::steady_clock::now() < deadline);
  return std::nullopt;
}

}  // namespace test_support
