#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/dll/shared_library.hpp>

#include "settings.h"
#include "svc/plugin.h"

namespace svc::host {

/// A plugin that cannot be used; the message names the file and the reason.
class PluginLoadError : public std::runtime_error {
 public:
  PluginLoadError(const PluginRef& plugin, const std::string& reason);
};

/// Loads plugin libraries and keeps them loaded until it is destroyed. Everything a plugin made
/// (instances, handlers) must be destroyed before it: declare it before them.
class PluginLibraries {
 public:
  PluginLibraries() = default;
  PluginLibraries(const PluginLibraries&) = delete;
  PluginLibraries& operator=(const PluginLibraries&) = delete;

  std::unique_ptr<RoutePlugin> createRoutePlugin(const PluginRef& plugin, const PluginContext& context);
  std::unique_ptr<StorageBackend> createStorageBackend(const PluginRef& plugin, const PluginContext& context);

 private:
  boost::dll::shared_library& open(const PluginRef& plugin, const char* factorySymbol);

  std::vector<boost::dll::shared_library> libraries_;
};

}  // namespace svc::host
