// Exports the plugin symbols but claims another API version (the next one, or CLAIMED_API_VERSION):
// the host must refuse it before calling its factory (which would fail the test if called).
#include <memory>
#include <stdexcept>

#include "svc/route_plugin.h"

namespace {

#ifndef CLAIMED_API_VERSION
#define CLAIMED_API_VERSION (svc::kPluginApiVersion + 1)
#endif

int claimedApiVersion() { return CLAIMED_API_VERSION; }

std::unique_ptr<svc::RoutePlugin> mustNotBeCalled(const svc::PluginContext&) {
  throw std::logic_error("the factory of a plugin of the wrong version was called");
}

}  // namespace

BOOST_DLL_ALIAS(claimedApiVersion, svc_plugin_api_version)
BOOST_DLL_ALIAS(mustNotBeCalled, svc_create_route_plugin)
