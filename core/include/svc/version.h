#pragma once

namespace svc {

/// The version of the plugin contract (every header under svc/). A plugin built against another
/// version is refused at load time, before its factory runs. Bump it on any change that would
/// break an already compiled plugin: a changed class layout, virtual function or signature.
// 2: PluginContext::metrics; 3: lease transactions (StorageBackend::beginLease), deadlines, Storage::awaitEnd;
// 4: SessionLease opaque (pool internals private), svc::Query, Coalescer moved out, Response::closeConnection
//    gone, domain errors (svc/errors.h), StorageUnavailable is an svc::Unavailable
inline constexpr int kPluginApiVersion = 4;

}  // namespace svc
