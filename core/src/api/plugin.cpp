#include "svc/route_plugin.h"

namespace svc {

Storage& PluginContext::requireStorage() const {
  if (storage == nullptr) {
    throw std::runtime_error("plugin " + name + " needs a storage plugin: set [plugins] storage in the .ini");
  }
  return *storage;
}

}  // namespace svc
