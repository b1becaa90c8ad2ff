#pragma once

#include <string_view>

#include "svc/log.h"

namespace svc {

/// Where finished log lines go (stdout, a file); the host decides.
class LogSink {
 public:
  virtual ~LogSink() = default;
  virtual void write(LogLevel level, std::string_view line) = 0;
};

}  // namespace svc
