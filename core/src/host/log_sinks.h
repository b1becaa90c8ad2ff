#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "log_sink.h"
#include "settings.h"
#include "svc/log.h"
#include "svc/metrics.h"

namespace svc::host {

/// Where the log's background writer puts batches of lines. A destination may stall (a pipe nobody
/// reads) or fail (a full disk): `write` waits a bounded time for it and may throw.
class LineTarget {
 public:
  virtual ~LineTarget() = default;
  /// Writes `text` (whole lines, each ending in '\n') and returns how many of its bytes were written:
  /// fewer than all when the destination stalled or failed.
  virtual std::size_t write(std::string_view text) = 0;
};

/// Writes to a file descriptor (stdout, stderr) without ever waiting more than `stallBound` for it to
/// take a byte: a pipe or socket is written without blocking, a regular file as usual.
std::unique_ptr<LineTarget> makeDescriptorTarget(int fd, std::chrono::milliseconds stallBound);

/// A sink that writes each line at once, on the caller's thread: for start-up messages and reports
/// about the log itself. Failures are ignored.
class DirectLogSink final : public LogSink {
 public:
  explicit DirectLogSink(std::unique_ptr<LineTarget> target) : target_(std::move(target)) {}
  void write(LogLevel level, std::string_view line) override;

 private:
  std::unique_ptr<LineTarget> target_;
};

/// The request threads' side of the log: `write` appends the line to a bounded queue and returns; a
/// background thread hands the queue to the target every `period` (at once for a warning or error).
/// A line that finds the queue full, or that the target did not take, is dropped and counted; once
/// the target takes lines again, it first gets one line (made by `dropNotice`) saying how many were
/// dropped. No exception from the target leaves the writer thread.
class AsyncLogSink final : public LogSink {
 public:
  struct Options {
    std::size_t capacityBytes = 1024 * 1024;
    std::chrono::milliseconds period{20};
    /// How long destruction (and `flush`) may spend writing what is queued.
    std::chrono::milliseconds finalFlushBound{2000};
  };
  using DropNotice = std::function<std::string(std::uint64_t dropped)>;

  AsyncLogSink(std::unique_ptr<LineTarget> target, DropNotice dropNotice, Options options);
  ~AsyncLogSink() override;
  AsyncLogSink(const AsyncLogSink&) = delete;
  AsyncLogSink& operator=(const AsyncLogSink&) = delete;

  void write(LogLevel level, std::string_view line) override;
  /// Waits, for at most Options::finalFlushBound, until what is queued now has been written or dropped.
  void flush();
  /// Lines dropped since start.
  const Counter& dropped() const;

 private:
  struct State;
  std::shared_ptr<State> state_;  // shared with the writer thread, which may outlive a stuck shutdown
  std::thread writer_;
};

/// Writes at once to stdout (syslog for a daemon): for what is said before the service's log is set up.
std::shared_ptr<LogSink> makeBootstrapSink(const std::string& serviceName, bool daemon);

/// The service's log: the target of `settings` behind an AsyncLogSink. A log file that cannot be
/// opened or written is reported at once on stderr (syslog for a daemon), and the service goes on.
std::shared_ptr<AsyncLogSink> makeServiceLogSink(const LoggingSettings& settings, const std::string& serviceName,
                                                 bool daemon);

}  // namespace svc::host
