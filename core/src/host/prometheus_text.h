#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
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

/// Upper bounds of the host's duration histograms' buckets, from half a millisecond to 10 s; one
/// more bucket is +Inf.
inline constexpr std::array<double, 14> kDurationBucketSeconds{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                               0.1,    0.25,  0.5,    1,     2.5,  5,     10};
inline constexpr std::size_t kDurationBuckets = kDurationBucketSeconds.size() + 1;

/// The bucket `duration` falls in (kDurationBuckets - 1: +Inf).
std::size_t durationBucket(std::chrono::nanoseconds duration) noexcept;

/// The _bucket, _sum and _count lines of histogram `name`, from the count of each bucket (not
/// cumulative, kDurationBuckets of them); `labels` is "" or "a=\"b\",..." without braces.
void writeDurationHistogram(std::string& out, std::string_view name, const std::string& labels,
                            std::span<const std::uint64_t, kDurationBuckets> counts, double sumSeconds);

}  // namespace svc::host::prometheus
