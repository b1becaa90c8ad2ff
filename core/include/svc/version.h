#pragma once

#include "svc/settings.h"

namespace svc {

/// The version of the plugin contract (every header under svc/). A plugin built against another
/// version is refused at load time, before its factory runs. Bump it on any change that would
/// break an already compiled plugin: a changed class layout, virtual function or signature.
// 2: PluginContext::metrics; 3: lease transactions (StorageBackend::beginLease), deadlines, Storage::awaitEnd;
// 4: SessionLease opaque (pool internals private), svc::Query, Coalescer moved out, Response::closeConnection
//    gone, domain errors (svc/errors.h), StorageUnavailable is an svc::Unavailable
// 5: two SDKs (route_plugin.h, storage_plugin.h); replies that outlive the handler (svc::Reply);
//    named statements (svc::Sql) run by the backend's connections; settings schemas; request context
inline constexpr int kPluginApiVersion = 5;

/// The symbols every plugin exports beside its factory, read by the host through Boost.DLL.
namespace plugin_abi {
using VersionFunction = int();
using SettingsFunction = SettingsSchema();
inline constexpr const char* kVersionSymbol = "svc_plugin_api_version";
inline constexpr const char* kSettingsSymbol = "svc_plugin_settings";

inline int apiVersion() { return kPluginApiVersion; }
}  // namespace plugin_abi

}  // namespace svc
