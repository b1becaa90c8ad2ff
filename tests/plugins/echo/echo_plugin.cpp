// A route plugin for tests: proves a plugin needs only its own folder and one .ini line,
// and gives tests handlers that fail or take their time on demand.
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include <Poco/Exception.h>

#include "svc/route_plugin.h"

namespace {

constexpr svc::Setting kSettings[] = {
    svc::Setting::text("greeting", "hello", "What GET /echo/{word} greets with"),
};

svc::RoutePluginManifest manifest() { return {.schema = "echo", .settings = kSettings}; }

svc::Response echoWord(const std::string& greeting, const svc::Request& request) {
  svc::json::ObjectWriter body;
  body.add("greeting", greeting).add("word", request.pathParam("word"));
  if (auto query = request.queryParam("q")) body.add("q", *query);
  return svc::Response::json(200, body.str());
}

svc::Response echoBody(const svc::Request& request) {
  const svc::json::Value body = svc::parseJsonBody(request);
  return svc::Response::json(200, svc::json::ObjectWriter().add("bytes", request.body().size()).add("object", body.isObject()).str());
}

[[noreturn]] svc::Response fail(const svc::Request& request) {
  const std::string& how = request.pathParam("how");
  if (how == "poco") throw Poco::IOException("echo plugin failure (poco)");
  if (how == "other") throw 42;
  throw std::runtime_error("echo plugin failure (std)");
}

// Logs "Echo sleeping" first: tests wait for it to know that the request is in progress.
svc::Response sleepFor(const svc::Logger& logger, const svc::Request& request) {
  const auto millis = std::stoi(request.pathParam("ms"));
  logger.info("Echo sleeping", {{"ms", std::int64_t{millis}}});
  std::this_thread::sleep_for(std::chrono::milliseconds(millis));
  return svc::Response::json(200, svc::json::ObjectWriter().add("slept_ms", millis).str());
}

// An asynchronous handler: answers from another thread after `how` ms; "drop" drops the reply,
// "throw" throws before replying.
void later(const svc::Request& request, svc::Reply reply) {
  const std::string& how = request.pathParam("how");
  if (how == "drop") return;
  if (how == "throw") throw svc::NotFound("nothing later");
  const int millis = std::stoi(how);
  auto shared = std::make_shared<svc::Reply>(std::move(reply));
  const std::string requestId = request.context().requestId;
  std::thread([shared, millis, requestId] {
    std::this_thread::sleep_for(std::chrono::milliseconds(millis));
    shared->send(svc::Response::json(
        200, svc::json::ObjectWriter().add("later_ms", millis).add("request_id", requestId).str()));
  }).detach();
}

class EchoPlugin final : public svc::RoutePlugin {
 public:
  explicit EchoPlugin(const svc::PluginContext& context)
      : greeting_(context.settings.text("greeting")), logger_(context.logger) {}

  void registerRoutes(svc::RouteRegistry& routes) override {
    routes.add("GET", "/echo/{word}", [this](const svc::Request& request) { return echoWord(greeting_, request); });
    routes.add("POST", "/echo", echoBody);
    routes.add("GET", "/echo/fail/{how}", fail);
    routes.add("GET", "/echo/sleep/{ms}", [this](const svc::Request& request) { return sleepFor(logger_, request); });
    routes.addAsync("GET", "/echo/later/{how}", later);
  }

 private:
  std::string greeting_;
  const svc::Logger& logger_;
};

std::unique_ptr<svc::RoutePlugin> createEchoPlugin(const svc::PluginContext& context) {
  return std::make_unique<EchoPlugin>(context);
}

}  // namespace

SVC_ROUTE_PLUGIN(createEchoPlugin, manifest)
