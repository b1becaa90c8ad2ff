// Exports the plugin symbols but claims another API version: the host must refuse it
// before calling its factory (which would fail the test if called).
#include <memory>
#include <stdexcept>

#include "svc/plugin_api.h"

namespace {

int futureApiVersion() { return svc::kPluginApiVersion + 1; }

std::unique_ptr<svc::RoutePlugin> mustNotBeCalled(const svc::PluginContext&) {
  throw std::logic_error("the factory of a plugin of the wrong version was called");
}

}  // namespace

BOOST_DLL_ALIAS(futureApiVersion, svc_plugin_api_version)
BOOST_DLL_ALIAS(mustNotBeCalled, svc_create_route_plugin)
