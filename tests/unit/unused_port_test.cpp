// The port a test brings a server back on (tests/support/server_process.h) stays the test's while
// nothing listens on it; before, another test's server took it and answered in its place.
#include <gtest/gtest.h>

#include <Poco/Exception.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>

#include "support/server_process.h"

namespace {

TEST(UnusedPort, StaysReservedWhileNothingListensYetTheTestsServerListensOnItAgainAndAgain) {
  const Poco::Net::SocketAddress address("127.0.0.1", test_support::unusedPort());

  // The kernel hands out only ports no socket is bound to, for bind(0) as for connect().
  Poco::Net::ServerSocket someoneElse;
  EXPECT_THROW(someoneElse.bind(address, false, false), Poco::Exception) << "the port is bound while nothing listens";

  for (int start = 1; start <= 2; ++start) {
    Poco::Net::ServerSocket server;
    server.bind(address, true, false);  // SO_REUSEADDR, as the service and TcpProxy bind
    server.listen();
    Poco::Net::StreamSocket client(address);
    EXPECT_EQ(server.acceptConnection().peerAddress(), client.address()) << "start " << start;
  }
}

}  // namespace
