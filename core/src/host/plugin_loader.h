#pragma once

#include <map>
#include <memory>
#include <stdexcept>
#include <string>

#include <boost/dll/shared_library.hpp>

#include "settings.h"
#include "svc/route_plugin.h"
#include "svc/storage_plugin.h"

namespace svc::host {

/// A plugin that cannot be used; the message names the file and the reason.
class PluginLoadError : public std::runtime_error {
 public:
  PluginLoadError(const PluginRef& plugin, const std::string& reason);
};

enum class PluginKind { Route, Storage };

/// Loads plugin libraries (each file once) and keeps them loaded until it is destroyed.
/// Everything a plugin made (instances, handlers) must be destroyed before it: declare it before them.
class PluginLibraries {
 public:
  PluginLibraries() = default;
  PluginLibraries(const PluginLibraries&) = delete;
  PluginLibraries& operator=(const PluginLibraries&) = delete;

  /// Whether the plugin serves routes or is a storage backend, read without creating it.
  PluginKind kind(const PluginRef& plugin);
  /// What the route plugin declares of itself, read before it is created.
  RoutePluginManifest routeManifest(const PluginRef& plugin);
  std::unique_ptr<RoutePlugin> createRoutePlugin(const PluginRef& plugin, const PluginContext& context);
  /// The keys of the storage plugin's section.
  SettingsSchema storageSettings(const PluginRef& plugin);
  std::unique_ptr<StorageBackend> createStorageBackend(const PluginRef& plugin, const StoragePluginContext& context);

 private:
  /// The library, loaded once, built for this host's plugin API version.
  boost::dll::shared_library& load(const PluginRef& plugin);
  /// The same, and a plugin of the kind whose factory is `factorySymbol`.
  boost::dll::shared_library& open(const PluginRef& plugin, const char* factorySymbol);

  std::map<std::string, boost::dll::shared_library> libraries_;  ///< by path
};

}  // namespace svc::host
