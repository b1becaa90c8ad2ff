#pragma once

#include <cstdint>
#include <string>
#include <string_view>

/// Writing the Prometheus text exposition format, version 0.0.4.
namespace svc::host::prometheus {

inline constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

/// Whether `name` is a valid metric name: [a-zA-Z_:][a-zA-Z0-9_:]*.
bool isMetricName(std::string_view name);

/// The "# HELP" and "# TYPE" lines of a metric family.
void writeFamily(std::string& out, std::string_view name, std::string_view type, std::string_view help);

/// One sample line; `labels` is empty or a rendered "{a=\"b\",...}".
void writeSample(std::string& out, std::string_view name, std::string_view labels, std::uint64_t value);
void writeSample(std::string& out, std::string_view name, std::string_view labels, double value);

/// The shortest fixed-point text that reads back as `value` ("0.0005", "1", "2.5").
std::string number(double value);

/// `value` escaped for use inside a quoted label value.
std::string escapeLabelValue(std::string_view value);

}  // namespace svc::host::prometheus
