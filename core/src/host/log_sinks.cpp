#include "log_sinks.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <mutex>
#include <thread>

#include <Poco/AutoPtr.h>
#include <Poco/FileChannel.h>
#include <Poco/Message.h>
#include <Poco/SyslogChannel.h>

#include "svc/timestamp.h"

namespace svc::host {

namespace {

using Clock = std::chrono::steady_clock;

std::size_t countLines(std::string_view text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + (!text.empty() && text.back() != '\n');
}

/// fd 1 or 2 as given, or, for a pipe or terminal, a new open file description of the same object
/// in non-blocking mode: setting O_NONBLOCK on the inherited one would change it for every process
/// that shares it (the shell of a terminal, for one).
class DescriptorTarget final : public LineTarget {
 public:
  DescriptorTarget(int fd, std::chrono::milliseconds stallBound) : fd_(fd), stallBound_(stallBound) {
    struct stat status {};
    if (::fstat(fd, &status) != 0) return;
    socket_ = S_ISSOCK(status.st_mode);
    if (S_ISFIFO(status.st_mode) || ::isatty(fd)) {
      const std::string self = "/proc/self/fd/" + std::to_string(fd);
      const int reopened = ::open(self.c_str(), O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
      if (reopened >= 0) {
        fd_ = reopened;
        owned_ = true;
      }
    }
  }
  ~DescriptorTarget() override {
    if (owned_) ::close(fd_);
  }

  std::size_t write(std::string_view text) override {
    std::size_t written = 0;
    Clock::time_point lastProgress = Clock::now();
    while (written < text.size()) {
      const ssize_t count = writeSome(text.substr(written));
      if (count > 0) {
        written += static_cast<std::size_t>(count);
        lastProgress = Clock::now();
      } else if (count < 0 && errno == EINTR) {
        continue;
      } else if (count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(lastProgress + stallBound_ - Clock::now());
        if (left.count() <= 0) break;
        pollfd writable{.fd = fd_, .events = POLLOUT, .revents = 0};
        ::poll(&writable, 1, static_cast<int>(left.count()));
      } else {
        break;  // EPIPE, EIO, ENOSPC...: this batch is lost
      }
    }
    return written;
  }

 private:
  ssize_t writeSome(std::string_view text) const {
    if (socket_) return ::send(fd_, text.data(), text.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    return ::write(fd_, text.data(), text.size());
  }

  int fd_;
  bool owned_ = false;
  bool socket_ = false;
  std::chrono::milliseconds stallBound_;
};

/// POCO's FileChannel, for its rotation. It throws when the file cannot be opened or written, and
/// its stream stays failed afterwards: so it is closed after a failure, to be reopened next time.
class FileTarget final : public LineTarget {
 public:
  FileTarget(const LoggingSettings& settings, std::function<void(const std::string&)> reportFailure)
      : channel_(new Poco::FileChannel(settings.file)), reportFailure_(std::move(reportFailure)) {
    if (!settings.rotation.empty()) {
      channel_->setProperty(Poco::FileChannel::PROP_ROTATION, settings.rotation);
      channel_->setProperty(Poco::FileChannel::PROP_ARCHIVE, "timestamp");
      channel_->setProperty(Poco::FileChannel::PROP_PURGECOUNT, "10");
    }
    attempt([&] { channel_->open(); });
  }
  ~FileTarget() override {
    attempt([&] { channel_->close(); });
  }

  std::size_t write(std::string_view text) override {
    if (text.empty()) return 0;
    // FileChannel ends each message with a newline itself.
    const std::string_view lines = text.back() == '\n' ? text.substr(0, text.size() - 1) : text;
    const bool written =
        attempt([&] { channel_->log(Poco::Message("", std::string(lines), Poco::Message::PRIO_INFORMATION)); });
    return written ? text.size() : 0;
  }

 private:
  template <class Action>
  bool attempt(Action&& action) {
    try {
      action();
      failing_ = false;
      return true;
    } catch (const Poco::Exception& error) {
      failed(error.displayText());
    } catch (const std::exception& error) {
      failed(error.what());
    }
    return false;
  }

  void failed(const std::string& reason) {
    try {
      channel_->close();
    } catch (...) {  // nothing more to do: the next write reopens it
    }
    if (failing_) return;
    failing_ = true;
    if (reportFailure_) reportFailure_(reason);
  }

  Poco::AutoPtr<Poco::FileChannel> channel_;
  std::function<void(const std::string&)> reportFailure_;
  bool failing_ = false;
};

/// One syslog message per line.
class SyslogTarget final : public LineTarget {
 public:
  explicit SyslogTarget(const std::string& serviceName)
      : channel_(new Poco::SyslogChannel(serviceName, Poco::SyslogChannel::SYSLOG_PID,
                                         Poco::SyslogChannel::SYSLOG_DAEMON)) {
    channel_->open();
  }
  ~SyslogTarget() override { channel_->close(); }

  std::size_t write(std::string_view text) override {
    std::size_t start = 0;
    while (start < text.size()) {
      const std::size_t end = std::min(text.find('\n', start), text.size());
      channel_->log(Poco::Message("", std::string(text.substr(start, end - start)), Poco::Message::PRIO_INFORMATION));
      start = end + 1;
    }
    return text.size();
  }

 private:
  Poco::AutoPtr<Poco::SyslogChannel> channel_;
};

}  // namespace

std::unique_ptr<LineTarget> makeDescriptorTarget(int fd, std::chrono::milliseconds stallBound) {
  return std::make_unique<DescriptorTarget>(fd, stallBound);
}

namespace {

// The target of `settings`: its file (rotated by POCO when `settings.rotation` is set, reopened
// after a failure that `reportFailure` hears of), else stdout (syslog for a daemon, whose stdout
// is /dev/null).
std::unique_ptr<LineTarget> makeLogTarget(const LoggingSettings& settings, const std::string& serviceName, bool daemon,
                                          std::function<void(const std::string& reason)> reportFailure) {
  // A log reader that goes away must not end the service with SIGPIPE; writes then fail with EPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  if (!settings.file.empty()) return std::make_unique<FileTarget>(settings, std::move(reportFailure));
  if (daemon) return std::make_unique<SyslogTarget>(serviceName);
  return makeDescriptorTarget(STDOUT_FILENO, std::chrono::milliseconds(1000));
}

}  // namespace

std::shared_ptr<LogSink> makeBootstrapSink(const std::string& serviceName, bool daemon) {
  return std::make_shared<DirectLogSink>(makeLogTarget(LoggingSettings{}, serviceName, daemon, nullptr));
}

std::shared_ptr<AsyncLogSink> makeServiceLogSink(const LoggingSettings& settings, const std::string& serviceName,
                                                 bool daemon) {
  const std::shared_ptr<LogSink> reportSink =
      daemon ? makeBootstrapSink(serviceName, daemon)
             : std::make_shared<DirectLogSink>(makeDescriptorTarget(STDERR_FILENO, std::chrono::milliseconds(100)));
  auto reporter = std::make_shared<Logger>(serviceName, settings.format, LogLevel::Debug, reportSink);
  auto reportFailure = [reporter, file = settings.file](const std::string& reason) {
    reporter->error("Cannot write the log file; its lines are dropped and counted (log_lines_dropped_total) until it "
                    "can be written",
                    {{"file", file}, {"reason", reason}});
  };
  const Logger formatter(serviceName, settings.format, settings.level, nullptr);
  auto dropNotice = [formatter](std::uint64_t dropped) {
    return formatter.format(LogLevel::Warning, "Log lines were dropped: the log output did not keep up or failed",
                            {{"dropped", dropped}}, nowEpochMicros());
  };
  return std::make_shared<AsyncLogSink>(makeLogTarget(settings, serviceName, daemon, std::move(reportFailure)),
                                        std::move(dropNotice), AsyncLogSink::Options{});
}

void DirectLogSink::write(LogLevel, std::string_view line) {
  try {
    std::string text(line);
    text += '\n';
    target_->write(text);
  } catch (...) {  // a report that cannot be written is lost, never a reason to fail
  }
}

struct AsyncLogSink::State {
  State(std::unique_ptr<LineTarget> lineTarget, DropNotice notice, Options settings)
      : target(std::move(lineTarget)), dropNotice(std::move(notice)), options(settings) {}

  void run();
  void deliver(const std::string& batch, std::size_t lines) noexcept;
  void writeBatch(const std::string& batch, std::size_t lines);
  std::size_t writeSafely(std::string_view text);
  void drop(std::uint64_t lines) noexcept;

  const std::unique_ptr<LineTarget> target;
  const DropNotice dropNotice;
  const Options options;

  std::mutex mutex;
  std::condition_variable wake;     // the writer: stop, flush, urgent line
  std::condition_variable written;  // flush(): a batch was handled
  std::string queue;                // lines, each ending in '\n'
  std::size_t queuedLines = 0;
  bool urgent = false;
  bool stopping = false;
  bool finished = false;
  std::uint64_t batchesTaken = 0;
  std::uint64_t batchesDone = 0;

  std::uint64_t droppedByWriters = 0;  // lines that found the queue full, not yet reported

  Counter droppedTotal;
  std::uint64_t unreported = 0;  // the writer thread's alone
  bool midLine = false;          // the writer thread's alone
};

void AsyncLogSink::State::run() {
  std::unique_lock lock(mutex);
  Clock::time_point finalDeadline = Clock::time_point::max();
  while (true) {
    wake.wait_for(lock, options.period, [&] { return stopping || urgent; });
    if (stopping && finalDeadline == Clock::time_point::max()) finalDeadline = Clock::now() + options.finalFlushBound;
    std::string batch;
    batch.swap(queue);
    const std::size_t lines = std::exchange(queuedLines, 0);
    urgent = false;
    unreported += std::exchange(droppedByWriters, 0);
    const std::uint64_t taken = ++batchesTaken;
    lock.unlock();
    if (Clock::now() < finalDeadline) deliver(batch, lines);
    else drop(lines);
    lock.lock();
    batchesDone = taken;
    written.notify_all();
    if (stopping && (queue.empty() || Clock::now() >= finalDeadline)) break;
  }
  drop(queuedLines);
  finished = true;
  written.notify_all();
}

// Nothing it calls may end the writer thread: a failure only costs the batch.
void AsyncLogSink::State::deliver(const std::string& batch, std::size_t lines) noexcept {
  if (batch.empty()) return;
  try {
    writeBatch(batch, lines);
  } catch (...) {
    drop(lines);
  }
}

void AsyncLogSink::State::writeBatch(const std::string& batch, std::size_t lines) {
  if (unreported > 0) {
    const std::string notice = dropNotice(unreported) + "\n";
    if (writeSafely(notice) == notice.size()) unreported = 0;
  }
  const std::size_t done = writeSafely(batch);
  if (done < batch.size()) drop(done == 0 ? lines : countLines(std::string_view(batch).substr(done)));
}

// A batch cut off in the middle of a line is followed by a newline, so that the next line starts
// on a line of its own.
std::size_t AsyncLogSink::State::writeSafely(std::string_view text) {
  std::string joined;
  const bool restartLine = midLine;
  if (restartLine) {
    joined.reserve(text.size() + 1);
    joined += '\n';
    joined += text;
  }
  std::size_t done = 0;
  try {
    done = target->write(restartLine ? std::string_view(joined) : text);
  } catch (...) {
    done = 0;
  }
  if (restartLine) {
    if (done == 0) return 0;
    midLine = false;
    --done;
  }
  if (done > 0 && done < text.size() && text[done - 1] != '\n') midLine = true;
  return done;
}

void AsyncLogSink::State::drop(std::uint64_t lines) noexcept {
  if (lines == 0) return;
  droppedTotal.increment(lines);
  unreported += lines;
}

AsyncLogSink::AsyncLogSink(std::unique_ptr<LineTarget> target, DropNotice dropNotice, Options options)
    : state_(std::make_shared<State>(std::move(target), std::move(dropNotice), options)),
      writer_([state = state_] { state->run(); }) {}

// The writer gets finalFlushBound to write what is queued; a target stuck in a write beyond that
// (a hung file system) is left behind with the state it shares, not waited for.
AsyncLogSink::~AsyncLogSink() {
  std::unique_lock lock(state_->mutex);
  state_->stopping = true;
  state_->wake.notify_all();
  const bool finished = state_->written.wait_for(
      lock, state_->options.finalFlushBound + std::chrono::milliseconds(500), [&] { return state_->finished; });
  lock.unlock();
  if (finished) writer_.join();
  else writer_.detach();
}

void AsyncLogSink::write(LogLevel level, std::string_view line) {
  State& state = *state_;
  {
    std::lock_guard lock(state.mutex);
    if (state.queue.size() + line.size() + 1 <= state.options.capacityBytes) {
      state.queue.append(line);
      state.queue += '\n';
      ++state.queuedLines;
      if (level >= LogLevel::Warning) state.urgent = true;
      else return;
    } else {
      // Counted here, reported by the writer once the target takes lines again.
      state.droppedTotal.increment();
      ++state.droppedByWriters;
      return;
    }
  }
  state.wake.notify_one();
}

void AsyncLogSink::flush() {
  State& state = *state_;
  std::unique_lock lock(state.mutex);
  const std::uint64_t wanted = state.batchesTaken + 1;
  state.urgent = true;
  state.wake.notify_all();
  state.written.wait_for(lock, state.options.finalFlushBound,
                         [&] { return state.batchesDone >= wanted || state.finished; });
}

const Counter& AsyncLogSink::dropped() const { return state_->droppedTotal; }

}  // namespace svc::host
