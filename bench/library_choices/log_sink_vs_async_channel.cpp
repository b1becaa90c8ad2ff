// Item 7 evaluation: Poco::AsyncChannel (POCO 1.11) against the host's AsyncLogSink, writing to
// a pipe nobody reads (a stalled log collector): per-line cost, and memory after 300,000 lines.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <unistd.h>
#include <Poco/AsyncChannel.h>
#include <Poco/AutoPtr.h>
#include <Poco/ConsoleChannel.h>
#include <Poco/Message.h>
#include "log_sinks.h"

using Clock = std::chrono::steady_clock;
static long rssKb() { std::ifstream s("/proc/self/status"); std::string l; while (std::getline(s, l)) if (l.rfind("VmRSS:", 0) == 0) return std::stol(l.substr(6)); return 0; }
static const std::string kLine = R"({"ts":"2026-11-30T15:00:00.000Z","level":"info","msg":"Request","method":"POST","path":"/orders","status":201,"duration_ms":2.31,"request_id":"0f8e2c1a-5b7d-4e9f-a1c3-2d4b6f8a0e1c"})";
constexpr int kLines = 300000;

int main(int argc, char** argv) {
  int fds[2];
  if (pipe(fds) != 0) return 1;
  const int report = dup(STDERR_FILENO);
  std::FILE* out = fdopen(report, "w");
  dup2(fds[1], STDOUT_FILENO);  // stdout and stderr (ConsoleChannel's std::clog) are now a pipe nobody reads
  dup2(fds[1], STDERR_FILENO);
  const bool poco = argc > 1 && std::string(argv[1]) == "poco";
  const long before = rssKb();
  const auto start = Clock::now();
  if (poco) {
    Poco::AutoPtr<Poco::ConsoleChannel> console(new Poco::ConsoleChannel);
    Poco::AutoPtr<Poco::AsyncChannel> async(new Poco::AsyncChannel(console));
    for (int i = 0; i < kLines; ++i) async->log(Poco::Message("svc", kLine, Poco::Message::PRIO_INFORMATION));
    const double ns = std::chrono::duration<double, std::nano>(Clock::now() - start).count() / kLines;
    std::fprintf(out, "Poco::AsyncChannel: %.0f ns/line, RSS +%ld MB after %d lines into a stalled pipe; closing blocks: ", ns, (rssKb() - before) / 1024, kLines);
    alarm(5);  // close() joins a writer stuck in write(): bounded here by SIGALRM
    std::fflush(out);
    async->close();
    std::fprintf(out, "closed\n"); std::fflush(out);
  } else {
    svc::host::AsyncLogSink sink(svc::host::makeDescriptorTarget(STDOUT_FILENO, std::chrono::milliseconds(100)),
                                 [](std::uint64_t n) { return "dropped " + std::to_string(n) + "\n"; }, {});
    for (int i = 0; i < kLines; ++i) sink.write(svc::LogLevel::Info, kLine);
    const double ns = std::chrono::duration<double, std::nano>(Clock::now() - start).count() / kLines;
    const auto closing = Clock::now();
    sink.flush();
    std::fprintf(out, "AsyncLogSink: %.0f ns/line, RSS +%ld MB after %d lines into a stalled pipe, %llu dropped; flush took %.0f ms\n", ns,
                 (rssKb() - before) / 1024, kLines, (unsigned long long)sink.dropped().value(),
                 std::chrono::duration<double, std::milli>(Clock::now() - closing).count());
    std::fflush(out);
  }
}
