#include "plugin_loader.h"

#include <filesystem>
#include <system_error>

namespace svc::host {

PluginLoadError::PluginLoadError(const PluginRef& plugin, const std::string& reason)
    : std::runtime_error("plugin " + plugin.name + " (" + plugin.library.string() + "): " + reason) {}

boost::dll::shared_library& PluginLibraries::load(const PluginRef& plugin) {
  const auto loaded = libraries_.find(plugin.library.string());
  if (loaded != libraries_.end()) return loaded->second;
  std::error_code missing;
  if (!std::filesystem::is_regular_file(plugin.library, missing)) throw PluginLoadError(plugin, "no such file");
  boost::dll::shared_library library;
  try {
    // rtld_now: an unresolved symbol fails here, not at its first call in the middle of a request
    library.load(plugin.library, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  } catch (const std::system_error& error) {
    throw PluginLoadError(plugin, std::string("cannot be loaded: ") + error.what());
  }
  if (!library.has(plugin_abi::kVersionSymbol)) {
    throw PluginLoadError(plugin, std::string("not a plugin (it exports no ") + plugin_abi::kVersionSymbol + ")");
  }
  const int version = library.get_alias<plugin_abi::VersionFunction>(plugin_abi::kVersionSymbol)();
  if (version != kPluginApiVersion) {
    throw PluginLoadError(plugin, "built for plugin API version " + std::to_string(version) + ", this host has " +
                                      std::to_string(kPluginApiVersion) + "; rebuild it");
  }
  return libraries_.emplace(plugin.library.string(), std::move(library)).first->second;
}

boost::dll::shared_library& PluginLibraries::open(const PluginRef& plugin, const char* factorySymbol) {
  auto& library = load(plugin);
  if (!library.has(factorySymbol)) {
    throw PluginLoadError(plugin, std::string("not this kind of plugin (it exports no ") + factorySymbol + ")");
  }
  if (!library.has(plugin_abi::kSettingsSymbol) && !library.has(plugin_abi::kManifestSymbol)) {
    throw PluginLoadError(plugin, "declares no settings (it exports no manifest)");
  }
  return library;
}

PluginKind PluginLibraries::kind(const PluginRef& plugin) {
  auto& library = load(plugin);
  if (library.has(plugin_abi::kStorageFactorySymbol)) return PluginKind::Storage;
  if (library.has(plugin_abi::kRouteFactorySymbol)) return PluginKind::Route;
  throw PluginLoadError(plugin, "neither a route nor a storage plugin");
}

namespace {

template <class Factory, class Context>
auto create(boost::dll::shared_library& library, const char* symbol, const PluginRef& plugin, const Context& context) {
  decltype(library.get_alias<Factory>(symbol)(context)) instance;
  try {
    instance = library.get_alias<Factory>(symbol)(context);
  } catch (const Poco::Exception& error) {
    throw PluginLoadError(plugin, "failed to start: " + error.displayText());
  } catch (const std::exception& error) {
    throw PluginLoadError(plugin, std::string("failed to start: ") + error.what());
  }
  if (!instance) throw PluginLoadError(plugin, "its factory returned nothing");
  return instance;
}

}  // namespace

RoutePluginManifest PluginLibraries::routeManifest(const PluginRef& plugin) {
  auto& library = open(plugin, plugin_abi::kRouteFactorySymbol);
  if (!library.has(plugin_abi::kManifestSymbol)) throw PluginLoadError(plugin, "exports no route plugin manifest");
  return library.get_alias<plugin_abi::ManifestFunction>(plugin_abi::kManifestSymbol)();
}

std::unique_ptr<RoutePlugin> PluginLibraries::createRoutePlugin(const PluginRef& plugin, const PluginContext& context) {
  auto& library = open(plugin, plugin_abi::kRouteFactorySymbol);
  return create<plugin_abi::RouteFactory>(library, plugin_abi::kRouteFactorySymbol, plugin, context);
}

SettingsSchema PluginLibraries::storageSettings(const PluginRef& plugin) {
  auto& library = open(plugin, plugin_abi::kStorageFactorySymbol);
  if (!library.has(plugin_abi::kSettingsSymbol)) throw PluginLoadError(plugin, "exports no settings schema");
  return library.get_alias<plugin_abi::SettingsFunction>(plugin_abi::kSettingsSymbol)();
}

std::unique_ptr<StorageBackend> PluginLibraries::createStorageBackend(const PluginRef& plugin,
                                                                      const StoragePluginContext& context) {
  auto& library = open(plugin, plugin_abi::kStorageFactorySymbol);
  return create<plugin_abi::StorageFactory>(library, plugin_abi::kStorageFactorySymbol, plugin, context);
}

}  // namespace svc::host
