// A route plugin whose factory fails, as one with a bad setting would.
#include <memory>
#include <stdexcept>

#include "svc/route_plugin.h"

namespace {

svc::RoutePluginManifest manifest() { return {}; }

std::unique_ptr<svc::RoutePlugin> createFailingPlugin(const svc::PluginContext&) {
  throw std::runtime_error("setting x is missing");
}

}  // namespace

SVC_ROUTE_PLUGIN(createFailingPlugin, manifest)
