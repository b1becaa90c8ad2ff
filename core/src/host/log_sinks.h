#pragma once

#include <memory>

#include "settings.h"
#include "svc/log.h"

namespace svc::host {

/// The file of `settings.file` (with POCO's rotation when `settings.rotation` is set), else
/// stdout, or syslog for a daemon, whose stdout is /dev/null.
std::shared_ptr<LogSink> makeLogSink(const LoggingSettings& settings, const std::string& serviceName, bool daemon);

}  // namespace svc::host
