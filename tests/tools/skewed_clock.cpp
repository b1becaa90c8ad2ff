// Preloaded (LD_PRELOAD) into a server under test, gives it a wall clock off by
// SKEWED_CLOCK_SECONDS (may be negative): an instance whose clock disagrees with the database's.
// Only clock_gettime(CLOCK_REALTIME...), which std::chrono::system_clock reads, is shifted: the
// monotonic clocks, gettimeofday() and time() are not, and neither is the database's clock
// (SQLite's 'now' reads gettimeofday; PostgreSQL runs in its own process).
#include <dlfcn.h>

#include <cstdlib>
#include <ctime>

namespace {

using ClockGettime = int (*)(clockid_t, timespec*);

long skewSeconds() {
  const char* skew = std::getenv("SKEWED_CLOCK_SECONDS");
  return skew == nullptr ? 0 : std::strtol(skew, nullptr, 10);
}

}  // namespace

extern "C" __attribute__((visibility("default"))) int clock_gettime(clockid_t clock, timespec* now) {
  static const auto real = reinterpret_cast<ClockGettime>(dlsym(RTLD_NEXT, "clock_gettime"));
  static const long skew = skewSeconds();
  const int result = real(clock, now);
  if (result == 0 && (clock == CLOCK_REALTIME || clock == CLOCK_REALTIME_COARSE)) now->tv_sec += skew;
  return result;
}
