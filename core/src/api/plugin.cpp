#include "svc/plugin.h"

#include <Poco/NumberParser.h>
#include <Poco/String.h>

namespace svc {

Storage& PluginContext::requireStorage() const {
  if (storage == nullptr) {
    throw std::runtime_error("plugin " + name + " needs a storage plugin: set [plugins] storage in the .ini");
  }
  return *storage;
}

int PluginContext::intSetting(const std::string& key, int fallback, int min, int max) const {
  if (!config.hasProperty(key)) return fallback;
  const std::string text = Poco::trim(config.getString(key));
  int value = 0;
  if (!Poco::NumberParser::tryParse(text, value) || value < min || value > max) {
    throw std::invalid_argument(name + "." + key + " must be an integer from " + std::to_string(min) + " to " +
                                std::to_string(max) + ", not \"" + text + "\"");
  }
  return value;
}

}  // namespace svc
