#include "log_sinks.h"

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
