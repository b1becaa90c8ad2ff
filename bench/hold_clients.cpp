// Holds many idle keep-alive and slowloris connections to a server on 127.0.0.1 while fresh
// clients time their requests, then reports what the fresh clients saw and the server's memory.
//
//   hold-clients PORT SERVER_PID IDLE SLOWLORIS FRESH
//
// IDLE connections are each answered one GET /health and then left open; SLOWLORIS connections
// send a request head one byte a second; FRESH clients, one after another, each open a new
// connection for GET /health and another for POST /orders. Prints one line per figure.
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <Poco/Exception.h>
#include <Poco/Net/StreamSocket.h>

namespace {

using Clock = std::chrono::steady_clock;

Poco::Net::StreamSocket connectTo(std::uint16_t port) {
  Poco::Net::StreamSocket socket(Poco::Net::SocketAddress("127.0.0.1", port));
  socket.setReceiveTimeout(Poco::Timespan(2, 0));
  return socket;
}

// The status of the one response `request` gets on a new connection; 0 when none came.
int exchange(std::uint16_t port, const std::string& request) {
  try {
    Poco::Net::StreamSocket socket = connectTo(port);
    socket.sendBytes(request.data(), static_cast<int>(request.size()));
    char buffer[4096];
    const int received = socket.receiveBytes(buffer, sizeof buffer);
    if (received < 12) return 0;
    return std::stoi(std::string(buffer + 9, 3));
  } catch (const Poco::Exception&) {
    return 0;
  }
}

struct Timings {
  std::vector<double> millis;
  int failed = 0;

  void print(const char* name) {
    std::sort(millis.begin(), millis.end());
    const auto at = [&](double share) { return millis.empty() ? 0.0 : millis[static_cast<std::size_t>(share * (millis.size() - 1))]; };
    std::printf("%s: %zu answered, %d failed, p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", name, millis.size(), failed,
                at(0.5), at(0.99), millis.empty() ? 0.0 : millis.back());
  }
};

void timeFresh(std::uint16_t port, const std::string& request, int expected, Timings& timings) {
  const auto started = Clock::now();
  const int status = exchange(port, request);
  if (status != expected) {
    ++timings.failed;
    return;
  }
  timings.millis.push_back(std::chrono::duration<double, std::milli>(Clock::now() - started).count());
}

// How many of `sockets` receive a 200 within 10 s, all waited on at once.
int collectAnswers(std::vector<Poco::Net::StreamSocket>& sockets) {
  std::vector<bool> done(sockets.size(), false);
  int answered = 0;
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  for (std::size_t left = sockets.size(); left > 0 && Clock::now() < deadline;) {
    for (std::size_t i = 0; i < sockets.size(); ++i) {
      if (done[i]) continue;
      try {
        if (sockets[i].available() == 0 && !sockets[i].poll(Poco::Timespan(0), Poco::Net::Socket::SELECT_READ)) continue;
        char buffer[4096];
        const int received = sockets[i].receiveBytes(buffer, sizeof buffer);
        if (received > 12 && std::string(buffer + 9, 3) == "200") ++answered;
      } catch (const Poco::Exception&) {
      }
      done[i] = true;
      --left;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return answered;
}

std::string residentMemory(int pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return line.substr(6);
  }
  return "?";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: %s PORT SERVER_PID IDLE SLOWLORIS FRESH\n", argv[0]);
    return 2;
  }
  const auto port = static_cast<std::uint16_t>(std::stoi(argv[1]));
  const int serverPid = std::stoi(argv[2]);
  const int idleCount = std::stoi(argv[3]);
  const int slowCount = std::stoi(argv[4]);
  const int fresh = std::stoi(argv[5]);
  rlimit files{};
  ::getrlimit(RLIMIT_NOFILE, &files);
  files.rlim_cur = files.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &files);

  const std::string health = "GET /health HTTP/1.1\r\nHost: bench\r\n\r\n";
  const std::string body = R"({"user_id":1,"product_id":1,"quantity":1})";
  const std::string post = "POST /orders HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nContent-Length: " +
                           std::to_string(body.size()) + "\r\n\r\n" + body;

  std::vector<Poco::Net::StreamSocket> idle;
  int idleRefused = 0;
  for (int i = 0; i < idleCount; ++i) {
    try {
      idle.push_back(connectTo(port));
      idle.back().sendBytes(health.data(), static_cast<int>(health.size()));
    } catch (const Poco::Exception&) {
      ++idleRefused;
    }
  }
  const int idleAnswered = collectAnswers(idle);
  std::printf("idle keep-alive connections: %d opened, %d answered, %d refused\n", static_cast<int>(idle.size()),
              idleAnswered, idleRefused);

  std::vector<Poco::Net::StreamSocket> slow;
  for (int i = 0; i < slowCount; ++i) {
    try {
      slow.push_back(connectTo(port));
    } catch (const Poco::Exception&) {
    }
  }
  std::atomic<bool> stop{false};
  std::atomic<int> slowCut{0};
  std::thread trickle([&] {
    const std::string head = "GET /health HTTP/1.1\r\nX-Slow: " + std::string(4000, 'z');
    for (std::size_t at = 0; !stop && at < head.size(); ++at) {
      for (auto& socket : slow) {
        try {
          socket.sendBytes(&head[at], 1);
        } catch (const Poco::Exception&) {
          ++slowCut;
        }
      }
      for (int tick = 0; tick < 10 && !stop; ++tick) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  std::printf("slowloris connections: %zu trickling one byte a second\n", slow.size());
  std::this_thread::sleep_for(std::chrono::seconds(2));

  Timings healthTimings;
  Timings postTimings;
  for (int i = 0; i < fresh; ++i) {
    timeFresh(port, health, 200, healthTimings);
    timeFresh(port, post, 201, postTimings);
  }
  healthTimings.print("fresh GET /health");
  postTimings.print("fresh POST /orders");
  std::printf("server RSS while held:%s\n", residentMemory(serverPid).c_str());

  for (auto& socket : idle) {
    try {
      socket.sendBytes(health.data(), static_cast<int>(health.size()));
    } catch (const Poco::Exception&) {
    }
  }
  const int stillOpen = collectAnswers(idle);
  std::printf("idle connections still served afterwards: %d of %zu; slowloris sends refused: %d\n", stillOpen,
              idle.size(), slowCut.load());
  stop = true;
  trickle.join();
  return 0;
}
