#include "support/http_client.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>

#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/StreamCopier.h>
#include <Poco/Timespan.h>

namespace test_support {

namespace {

Poco::Timespan timespan(std::chrono::milliseconds duration) {
  return Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(duration.count()) * 1000);
}

// With OPENAPI_RECORD_DIR set, every response is appended to a file of this process there, one
// JSON object a line, for tests/openapi/check_responses.py to check against docs/openapi.json.
void record(const std::string& method, const std::string& target, const HttpResponse& response) {
  static const char* directory = std::getenv("OPENAPI_RECORD_DIR");
  if (directory == nullptr || *directory == '\0') return;
  static std::mutex mutex;
  static std::ofstream out(std::string(directory) + "/responses-" + std::to_string(getpid()) + ".jsonl",
                           std::ios::app);
  const std::string line = svc::json::ObjectWriter()
                               .add("method", method)
                               .add("target", target)
                               .add("status", response.status)
                               .add("content_type", response.header("Content-Type"))
                               .add("body", response.body)
                               .str();
  std::lock_guard lock(mutex);
  out << line << '\n' << std::flush;
}

}  // namespace

HttpClient::HttpClient(std::uint16_t port, std::chrono::milliseconds timeout)
    : session_(std::make_unique<Poco::Net::HTTPClientSession>("127.0.0.1", port)) {
  session_->setTimeout(timespan(timeout));
  session_->setKeepAlive(true);
}

HttpResponse HttpClient::request(const std::string& method, const std::string& target, const std::string& body,
                                 const Headers& headers) {
  Poco::Net::HTTPRequest request(method, target, Poco::Net::HTTPMessage::HTTP_1_1);
  for (const auto& [name, value] : headers) request.set(name, value);
  if (!body.empty() || method == "POST") request.setContentLength(static_cast<std::streamsize>(body.size()));
  session_->sendRequest(request) << body;
  Poco::Net::HTTPResponse response;
  std::istream& in = session_->receiveResponse(response);
  HttpResponse result;
  result.status = response.getStatus();
  result.reason = response.getReason();
  for (const auto& [name, value] : response) result.headers.add(name, value);
  std::ostringstream text;
  Poco::StreamCopier::copyStream(in, text);
  result.body = text.str();
  record(method, target, result);
  return result;
}

std::string rawExchange(std::uint16_t port, const std::string& bytes, std::chrono::milliseconds timeout) {
  Poco::Net::StreamSocket socket = connectTo(port);
  socket.setReceiveTimeout(timespan(timeout));
  send(socket, bytes);
  std::string received;
  char buffer[4096];
  try {
    int count = 0;
    while ((count = socket.receiveBytes(buffer, sizeof buffer)) > 0) {
      received.append(buffer, static_cast<std::size_t>(count));
    }
  } catch (const Poco::TimeoutException&) {
    // the server kept the connection open: return what came so far
  } catch (const Poco::Net::NetException&) {
    // reset by the server after its answer
  }
  return received;
}

int statusOf(const std::string& rawResponse) {
  if (rawResponse.rfind("HTTP/1.", 0) != 0 || rawResponse.size() < 12) return 0;
  return std::stoi(rawResponse.substr(9, 3));
}

Poco::Net::StreamSocket connectTo(std::uint16_t port) {
  Poco::Net::StreamSocket socket(Poco::Net::SocketAddress("127.0.0.1", port));
  socket.setReceiveTimeout(Poco::Timespan(5, 0));
  return socket;
}

void send(Poco::Net::StreamSocket& socket, const std::string& bytes) {
  socket.sendBytes(bytes.data(), static_cast<int>(bytes.size()));
}

std::vector<std::string> readResponses(Poco::Net::StreamSocket& socket, std::size_t count) {
  std::vector<std::string> responses;
  std::string buffer;
  char chunk[8192];
  while (responses.size() < count) {
    const std::size_t headEnd = buffer.find("\r\n\r\n");
    if (headEnd != std::string::npos) {
      const std::size_t field = buffer.find("Content-Length: ");
      const std::size_t length = field < headEnd ? std::stoul(buffer.substr(field + 16)) : 0;
      if (buffer.size() >= headEnd + 4 + length) {
        responses.push_back(buffer.substr(0, headEnd + 4 + length));
        buffer.erase(0, headEnd + 4 + length);
        continue;
      }
    }
    const int received = socket.receiveBytes(chunk, sizeof chunk);
    if (received <= 0) break;
    buffer.append(chunk, static_cast<std::size_t>(received));
  }
  return responses;
}

}  // namespace test_support
