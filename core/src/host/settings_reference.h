#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "host_schema.h"
#include "plugin_loader.h"

namespace svc::host {

/// How the settings are printed: after the options of `--help` (text), as docs/api.md's tables
/// (markdown), or as an .ini of every key at its default, each under its comment (ini).
enum class ReferenceFormat { Help, Markdown, Ini };

/// The format named "help", "markdown" or "ini".
std::optional<ReferenceFormat> referenceFormat(std::string_view name);

/// Every key of `sections` with its type, default, range or choices, and meaning.
std::string settingsReference(const std::vector<SettingsSection>& sections, ReferenceFormat format);

/// The sections of the plugins named `storage` and `routes`, their schemas read from their
/// libraries without creating them (the libraries stay loaded in `libraries`, which must outlive
/// the sections). A plugin that cannot be read adds the reason to `problems` instead.
std::vector<SettingsSection> namedPluginSections(PluginLibraries& libraries, const std::optional<PluginRef>& storage,
                                                 const std::vector<PluginRef>& routes,
                                                 std::vector<std::string>& problems);

/// The sections of every plugin library lib<name>.so in `directory`, each named after its library
/// (the storage plugins first, then the route plugins, each by name), read as namedPluginSections does.
std::vector<SettingsSection> directoryPluginSections(PluginLibraries& libraries, const std::filesystem::path& directory,
                                                     std::vector<std::string>& problems);

}  // namespace svc::host
