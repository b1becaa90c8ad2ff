#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "svc/settings.h"

namespace svc::host {

/// A section of the .ini, who reads it, and its keys: what the reader checks, `--help` lists and
/// the docs' tables and the shipped .ini's comments are generated from.
struct SettingsSection {
  std::string name;   ///< "server", "storage-sqlite", "orders"
  std::string owner;  ///< "host", "storage plugin libstorage-sqlite.so", "route plugin liborders.so"
  SettingsSchema schema;
};

/// The host's own sections: [service], [server], [logging], [plugins], [storage], [config].
const std::vector<SettingsSection>& hostSections();

/// The keys of the host's `section`; std::logic_error for a section the host does not own.
SettingsSchema hostSchema(std::string_view section);

/// A key of [plugins] that names one route plugin a line: route.<name> = <library>.
inline constexpr std::string_view kRoutePluginKey = "route.<name>";

}  // namespace svc::host
