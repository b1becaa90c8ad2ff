#pragma once

#include <memory>

#include "settings.h"
#include "svc/log.h"

namespace svc::host {

/// stdout, or the file of `settings.file` (with POCO's rotation when `settings.rotation` is set).
std::shared_ptr<LogSink> makeLogSink(const LoggingSettings& settings);

}  // namespace svc::host
