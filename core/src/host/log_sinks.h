#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "settings.h"
#include "svc/log.h"

namespace svc::host {

/// The file of `settings.file` (with POCO's rotation when `settings.rotation` is set), else
/// stdout, or syslog for a daemon, whose stdout is /dev/null.
std::shared_ptr<LogSink> makeLogSink(const LoggingSettings& settings, const std::string& serviceName, bool daemon);

/// Collects lines and hands them to `target` in one write every `period` (a background thread),
/// instead of one write per request. A warning or error, or a full buffer, is written at once
/// with everything before it; the order of lines is kept; destruction writes what is left.
class BatchingLogSink final : public LogSink {
 public:
  BatchingLogSink(std::shared_ptr<LogSink> target, std::chrono::milliseconds period);
  ~BatchingLogSink() override;
  void write(LogLevel level, std::string_view line) override;
  void flush();

 private:
  void flushLocked(std::unique_lock<std::mutex>& lock);

  std::shared_ptr<LogSink> target_;
  std::mutex bufferMutex_;
  std::mutex writeMutex_;  // see flushLocked for the order in which the two are taken
  std::string pending_;
  LogLevel pendingLevel_ = LogLevel::Debug;
  bool running_ = true;
  std::condition_variable wake_;
  std::thread flusher_;
};

}  // namespace svc::host
