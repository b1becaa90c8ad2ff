// The yardstick for GET /health: a bare POCO HTTPServer whose only handler answers
// {"status":"ok"}, with the thread, queue and keep-alive settings the service uses.
//   bare-server PORT MAX_THREADS
#include <cstdlib>
#include <iostream>
#include <string>

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/ThreadPool.h>
#include <Poco/Util/ServerApplication.h>

namespace {

class Health final : public Poco::Net::HTTPRequestHandler {
 public:
  void handleRequest(Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse& response) override {
    static const std::string body = R"({"status":"ok"})";
    response.setContentType("application/json");
    response.sendBuffer(body.data(), body.size());
  }
};

class Factory final : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
    return new Health;
  }
};

class BareServer final : public Poco::Util::ServerApplication {
 protected:
  int main(const std::vector<std::string>& args) override {
    if (args.size() != 2) {
      std::cerr << "usage: bare-server PORT MAX_THREADS\n";
      return EXIT_USAGE;
    }
    const int threads = std::stoi(args[1]);
    Poco::Net::ServerSocket socket;
    socket.bind(Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(std::stoi(args[0]))), true, false);
    socket.listen(1024);
    Poco::Net::HTTPServerParams::Ptr params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(threads);
    params->setMaxQueued(256);
    params->setKeepAliveTimeout(Poco::Timespan(10, 0));
    Poco::ThreadPool pool("bare", 2, threads + 1);
    Poco::Net::HTTPServer server(new Factory, pool, socket, params);
    server.start();
    waitForTerminationRequest();
    server.stopAll(true);
    return EXIT_OK;
  }
};

}  // namespace

POCO_SERVER_MAIN(BareServer)
