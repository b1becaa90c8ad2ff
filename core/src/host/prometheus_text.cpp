#include "prometheus_text.h"

#include <cctype>
#include <charconv>

namespace svc::host::prometheus {

namespace {

bool isNameStart(unsigned char c) { return std::isalpha(c) || c == '_' || c == ':'; }

// HELP text escapes only backslash and newline; label values also the double quote.
std::string escape(std::string_view text, bool quotes) {
  std::string escaped;
  escaped.reserve(text.size());
  for (const char c : text) {
    if (c == '\\') escaped += "\\\\";
    else if (c == '\n') escaped += "\\n";
    else if (c == '"' && quotes) escaped += "\\\"";
    else escaped += c;
  }
  return escaped;
}

void writeName(std::string& out, std::string_view name, std::string_view labels) {
  out += name;
  out += labels;
  out += ' ';
}

}  // namespace

bool isMetricName(std::string_view name) {
  if (name.empty() || !isNameStart(static_cast<unsigned char>(name.front()))) return false;
  for (const char c : name) {
    if (!isNameStart(static_cast<unsigned char>(c)) && !std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

void writeFamily(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += escape(help, false);
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void writeSample(std::string& out, std::string_view name, std::string_view labels, std::uint64_t value) {
  writeName(out, name, labels);
  out += std::to_string(value);
  out += '\n';
}

void writeSample(std::string& out, std::string_view name, std::string_view labels, double value) {
  writeName(out, name, labels);
  out += number(value);
  out += '\n';
}

std::string number(double value) {
  char text[400];  // fixed notation: up to 309 digits before the point for the largest doubles
  const auto written = std::to_chars(text, text + sizeof text, value, std::chars_format::fixed);
  return std::string(text, written.ptr);
}

std::string escapeLabelValue(std::string_view value) { return escape(value, true); }

namespace {

constexpr std::array<std::int64_t, kDurationBucketSeconds.size()> bucketNanos() {
  std::array<std::int64_t, kDurationBucketSeconds.size()> nanos{};
  for (std::size_t i = 0; i < nanos.size(); ++i) nanos[i] = static_cast<std::int64_t>(kDurationBucketSeconds[i] * 1e9);
  return nanos;
}
constexpr auto kBucketNanos = bucketNanos();

std::string braced(const std::string& labels, const std::string& more) {
  if (labels.empty()) return more.empty() ? "" : "{" + more + "}";
  return "{" + labels + (more.empty() ? "" : "," + more) + "}";
}

}  // namespace

std::size_t durationBucket(std::chrono::nanoseconds duration) noexcept {
  std::size_t bucket = 0;
  while (bucket < kBucketNanos.size() && duration.count() > kBucketNanos[bucket]) ++bucket;
  return bucket;
}

void writeDurationHistogram(std::string& out, std::string_view name, const std::string& labels,
                            std::span<const std::uint64_t, kDurationBuckets> counts, double sumSeconds) {
  const std::string family(name);
  std::uint64_t cumulative = 0;
  for (std::size_t bucket = 0; bucket < kDurationBuckets; ++bucket) {
    cumulative += counts[bucket];
    const std::string bound = bucket < kDurationBucketSeconds.size() ? number(kDurationBucketSeconds[bucket]) : "+Inf";
    writeSample(out, family + "_bucket", braced(labels, "le=\"" + bound + "\""), cumulative);
  }
  writeSample(out, family + "_sum", braced(labels, ""), sumSeconds);
  writeSample(out, family + "_count", braced(labels, ""), cumulative);
}

}  // namespace svc::host::prometheus
