#include "log_sinks.h"

#include <algorithm>
#include <iostream>

#include <Poco/AutoPtr.h>
#include <Poco/ConsoleChannel.h>
#include <Poco/FileChannel.h>
#include <Poco/Message.h>
#include <Poco/SyslogChannel.h>

namespace svc::host {

namespace {

Poco::Message::Priority priority(LogLevel level) {
  switch (level) {
    case LogLevel::Debug: return Poco::Message::PRIO_DEBUG;
    case LogLevel::Info: return Poco::Message::PRIO_INFORMATION;
    case LogLevel::Warning: return Poco::Message::PRIO_WARNING;
    case LogLevel::Error: return Poco::Message::PRIO_ERROR;
  }
  return Poco::Message::PRIO_INFORMATION;
}

/// Hands finished lines to a POCO channel, which writes each whole line under its own lock.
class ChannelSink final : public LogSink {
 public:
  explicit ChannelSink(Poco::AutoPtr<Poco::Channel> channel) : channel_(std::move(channel)) { channel_->open(); }
  ~ChannelSink() override { channel_->close(); }

  void write(LogLevel level, std::string_view line) override {
    channel_->log(Poco::Message("", std::string(line), priority(level)));
  }

 private:
  Poco::AutoPtr<Poco::Channel> channel_;
};

}  // namespace

namespace {
constexpr std::size_t kMaxPendingBytes = 64 * 1024;
}  // namespace

BatchingLogSink::BatchingLogSink(std::shared_ptr<LogSink> target, std::chrono::milliseconds period)
    : target_(std::move(target)), flusher_([this, period] {
        std::unique_lock lock(bufferMutex_);
        while (running_) {
          wake_.wait_for(lock, period);
          flushLocked(lock);
        }
      }) {}

BatchingLogSink::~BatchingLogSink() {
  {
    std::lock_guard lock(bufferMutex_);
    running_ = false;
  }
  wake_.notify_all();
  flusher_.join();
  flush();
}

void BatchingLogSink::write(LogLevel level, std::string_view line) {
  std::unique_lock lock(bufferMutex_);
  if (!pending_.empty()) pending_ += '\n';
  pending_ += line;
  pendingLevel_ = std::max(pendingLevel_, level);
  if (level >= LogLevel::Warning || pending_.size() >= kMaxPendingBytes) flushLocked(lock);
}

void BatchingLogSink::flush() {
  std::unique_lock lock(bufferMutex_);
  flushLocked(lock);
}

void BatchingLogSink::flushLocked(std::unique_lock<std::mutex>& lock) {
  if (pending_.empty()) return;
  std::string chunk;
  chunk.swap(pending_);
  const LogLevel level = pendingLevel_;
  pendingLevel_ = LogLevel::Debug;
  // The write lock is taken before the buffer is released (chunks are written in the order they
  // were taken) and released before the buffer is taken again (never buffer-after-write).
  std::unique_lock writing(writeMutex_);
  lock.unlock();
  target_->write(level, chunk);
  writing.unlock();
  lock.lock();
}

std::shared_ptr<LogSink> makeLogSink(const LoggingSettings& settings, const std::string& serviceName, bool daemon) {
  if (settings.file.empty() && daemon) {
    return std::make_shared<ChannelSink>(new Poco::SyslogChannel(serviceName, Poco::SyslogChannel::SYSLOG_PID,
                                                                 Poco::SyslogChannel::SYSLOG_DAEMON));
  }
  if (settings.file.empty()) return std::make_shared<ChannelSink>(new Poco::ConsoleChannel(std::cout));
  Poco::AutoPtr<Poco::FileChannel> file = new Poco::FileChannel(settings.file);
  if (!settings.rotation.empty()) {
    file->setProperty(Poco::FileChannel::PROP_ROTATION, settings.rotation);
    file->setProperty(Poco::FileChannel::PROP_ARCHIVE, "timestamp");
    file->setProperty(Poco::FileChannel::PROP_PURGECOUNT, "10");
  }
  return std::make_shared<ChannelSink>(file);
}

}  // namespace svc::host
