#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace test_support {

/// Polls `condition` until it holds or `timeout` passes; whether it held. Tests wait for what they
/// need this way, not for a fixed time: too long on a quiet machine, too short on a busy one.
inline bool eventually(const std::function<bool()>& condition,
                       std::chrono::steady_clock::duration timeout = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

}  // namespace test_support
