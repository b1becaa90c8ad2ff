#include <gtest/gtest.h>

#include <string>

#include "request_framing.h"

using svc::host::FramingLimits;
using svc::host::RequestFramer;
using Progress = RequestFramer::Progress;

namespace {

constexpr FramingLimits kLimits{.maxHeadBytes = 2048, .maxBodyBytes = 64};

class RequestFraming : public testing::Test {
 protected:
  Progress frame(const std::string& input, bool ended = false) { return framer_.frame(input, ended); }

  int rejectedWith(const std::string& input, bool ended = false) {
    EXPECT_EQ(frame(input, ended), Progress::Rejected) << input.substr(0, 120);
    return framer_.rejection().status;
  }

  RequestFramer framer_{kLimits};
};

}  // namespace

TEST_F(RequestFraming, WaitsForTheWholeHeadThenTakesExactlyOneRequest) {
  const std::string first = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
  const std::string second = "GET /metrics HTTP/1.1\r\n\r\n";
  EXPECT_EQ(frame(first.substr(0, 20)), Progress::NeedMore);
  EXPECT_EQ(frame(first.substr(0, first.size() - 1)), Progress::NeedMore);
  ASSERT_EQ(frame(first + second), Progress::Ready);
  EXPECT_EQ(framer_.consumed(), first.size()) << "the pipelined request after it is left for the next frame";
  EXPECT_EQ(framer_.request().getURI(), "/health");
  EXPECT_EQ(framer_.request().get("Host"), "x");
  EXPECT_EQ(framer_.takeBody(), "");
  framer_.reset();
  ASSERT_EQ(frame(second), Progress::Ready);
  EXPECT_EQ(framer_.request().getURI(), "/metrics");
}

TEST_F(RequestFraming, SkipsBlankLinesBeforeARequestAndAcceptsBareLineFeeds) {
  EXPECT_FALSE(RequestFramer::started("\r\n\r\n"));
  EXPECT_TRUE(RequestFramer::started("\r\nG"));
  const std::string request = "\r\nGET /health HTTP/1.0\n\n";
  ASSERT_EQ(frame(request), Progress::Ready);
  EXPECT_EQ(framer_.consumed(), request.size());
  EXPECT_EQ(framer_.request().getVersion(), "HTTP/1.0");
}

TEST_F(RequestFraming, WaitsForAContentLengthBody) {
  const std::string head = "POST /orders HTTP/1.1\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n";
  EXPECT_EQ(frame(head + "01234"), Progress::NeedMore);
  EXPECT_TRUE(framer_.takeContinueRequest());
  EXPECT_FALSE(framer_.takeContinueRequest()) << "100 Continue is sent once";
  ASSERT_EQ(frame(head + "0123456789GET"), Progress::Ready);
  EXPECT_EQ(framer_.takeBody(), "0123456789");
  EXPECT_EQ(framer_.consumed(), head.size() + 10);
}

TEST_F(RequestFraming, DecodesAChunkedBody) {
  const std::string head = "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
  EXPECT_EQ(frame(head + "4;ext=1\r\nabcd\r\n"), Progress::NeedMore);
  EXPECT_EQ(frame(head + "4;ext=1\r\nabcd\r\n3\r\nef"), Progress::NeedMore);
  ASSERT_EQ(frame(head + "4;ext=1\r\nabcd\r\n3\r\nefg\r\n0\r\n\r\n"), Progress::Ready);
  EXPECT_TRUE(framer_.chunked());
  EXPECT_EQ(framer_.takeBody(), "abcdefg");
}

// A client may send a request a byte at a time: each frame goes on from where the last stopped.
TEST_F(RequestFraming, FramesARequestArrivingAByteAtATimeAsIfItCameAtOnce) {
  const std::string request =
      "\r\nPOST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n";
  Progress progress = Progress::NeedMore;
  for (std::size_t size = 1; size <= request.size() && progress == Progress::NeedMore; ++size) {
    const std::string arrived = request.substr(0, size);
    RequestFramer atOnce{kLimits};
    progress = frame(arrived);
    ASSERT_EQ(progress, atOnce.frame(arrived, false)) << size;
  }
  ASSERT_EQ(progress, Progress::Ready);
  EXPECT_EQ(framer_.request().get("Host"), "x");
  EXPECT_EQ(framer_.takeBody(), "abcde");
}

TEST_F(RequestFraming, EndsAChunkedBodyAtAMalformedChunkAsPocoDoes) {
  ASSERT_EQ(frame("POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n"),
            Progress::Ready);
  EXPECT_EQ(framer_.takeBody(), "");
  EXPECT_TRUE(framer_.chunked()) << "so the connection carries nothing after it";
}

TEST_F(RequestFraming, RefusesBodiesOverTheLimit) {
  EXPECT_EQ(rejectedWith("POST / HTTP/1.1\r\nContent-Length: 65\r\n\r\n"), 413);
  framer_.reset();
  const std::string chunk = "40\r\n" + std::string(64, 'a') + "\r\n";
  EXPECT_EQ(rejectedWith("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk + "1\r\nb\r\n0\r\n\r\n"), 413);
  framer_.reset();
  EXPECT_EQ(rejectedWith("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + std::string(1200, '\n')), 413)
      << "padding between chunks counts against the limit too";
}

TEST_F(RequestFraming, RefusesHeadsOverTheLimits) {
  EXPECT_EQ(rejectedWith("GET / HTTP/1.1\r\nX: " + std::string(3000, 'a')), 431) << "no end of head in sight";
  framer_.reset();
  std::string many = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 101; ++i) many += "X" + std::to_string(i) + ": y\r\n";
  EXPECT_EQ(rejectedWith(many + "\r\n"), 431) << "POCO's limit of 100 fields";
  framer_.reset();
  EXPECT_EQ(rejectedWith("GET /" + std::string(2100, 'a')), 400) << "POCO: URI invalid or too long";
}

TEST_F(RequestFraming, RefusesMalformedAndAmbiguousRequests) {
  EXPECT_EQ(rejectedWith("GARBAGE\r\n\r\n"), 400);
  framer_.reset();
  EXPECT_EQ(rejectedWith("GET / HTTP/2.0\r\n\r\n"), 505);
  EXPECT_EQ(framer_.rejection().method, "GET");
  framer_.reset();
  EXPECT_EQ(rejectedWith("POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n"), 400);
  framer_.reset();
  EXPECT_EQ(rejectedWith("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n"), 501);
  framer_.reset();
  EXPECT_EQ(rejectedWith("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n"), 400);
}

TEST_F(RequestFraming, RefusesARequestCutShortByTheClient) {
  EXPECT_EQ(rejectedWith("GET /health HTTP/1.1\r\nHost:", true), 400);
  framer_.reset();
  EXPECT_EQ(rejectedWith("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nab", true), 400);
}
