#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "log_sink.h"
#include "svc/log.h"

namespace test_support {

/// Keeps every log line, for assertions on what was logged in-process.
class CapturingSink final : public svc::LogSink {
 public:
  void write(svc::LogLevel, std::string_view line) override {
    std::lock_guard lock(mutex_);
    lines_.emplace_back(line);
  }
  std::vector<std::string> lines() const {
    std::lock_guard lock(mutex_);
    return lines_;
  }
  std::size_t count(const std::string& text) const {
    std::size_t found = 0;
    for (const std::string& line : lines()) found += line.find(text) != std::string::npos;
    return found;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
};

}  // namespace test_support
