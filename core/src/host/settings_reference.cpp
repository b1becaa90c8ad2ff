#include "settings_reference.h"

#include <algorithm>
#include <sstream>

namespace svc::host {

namespace {

constexpr std::size_t kLineWidth = 100;
constexpr std::size_t kHelpKeyColumn = 26;

std::string_view typeName(Setting::Type type) {
  switch (type) {
    case Setting::Type::Integer:
      return "integer";
    case Setting::Type::Milliseconds:
      return "milliseconds";
    case Setting::Type::Boolean:
      return "boolean";
    case Setting::Type::Choice:
      return "choice";
    case Setting::Type::Text:
      break;
  }
  return "text";
}

// What a value may be: "0..65535", "json, text", "true, false"; empty for any text.
std::string range(const Setting& setting) {
  switch (setting.type) {
    case Setting::Type::Integer:
    case Setting::Type::Milliseconds:
      return std::to_string(setting.min) + ".." + std::to_string(setting.max);
    case Setting::Type::Boolean:
      return "true, false";
    case Setting::Type::Choice: {
      std::string choices;
      for (const char c : setting.choices) choices += c == '|' ? std::string(", ") : std::string(1, c);
      return choices;
    }
    case Setting::Type::Text:
      break;
  }
  return "";
}

// "integer 0..65535, default 8080"
std::string summary(const Setting& setting) {
  std::string text(typeName(setting.type));
  const std::string values = setting.type == Setting::Type::Boolean ? "" : range(setting);
  if (!values.empty()) text += " " + values;
  return text + ", default " + (setting.fallback.empty() ? "empty" : std::string(setting.fallback));
}

// `text` in lines of at most `width` characters (a longer word stays whole), each after `prefix`.
std::string wrapped(std::string_view text, std::string_view prefix) {
  std::string lines;
  std::string line;
  std::istringstream words{std::string(text)};
  for (std::string word; words >> word;) {
    if (!line.empty() && prefix.size() + line.size() + 1 + word.size() > kLineWidth) {
      lines += std::string(prefix) + line + "\n";
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
  }
  if (!line.empty()) lines += std::string(prefix) + line + "\n";
  return lines;
}

std::string helpText(const std::vector<SettingsSection>& sections) {
  std::string text = "Settings, by section: each key with its type, range, default and meaning.\n";
  for (const SettingsSection& section : sections) {
    text += "\n[" + section.name + "] (" + section.owner + ")\n";
    for (const Setting& setting : section.schema) {
      std::string key(setting.key);
      key.resize(std::max(key.size() + 1, kHelpKeyColumn), ' ');
      text += "  " + key + summary(setting) + "\n" + wrapped(setting.meaning, "      ");
    }
  }
  return text;
}

// Markdown would take <name> for an HTML tag and | for a cell's end; code spans stay as written.
std::string markdownCell(std::string_view text) {
  std::string cell;
  bool inCode = false;
  for (const char c : text) {
    inCode = c == '`' ? !inCode : inCode;
    if (c == '|') cell += "\\|";
    else if (inCode || (c != '<' && c != '>' && c != '*')) cell += c;
    else cell += c == '<' ? "&lt;" : c == '>' ? "&gt;" : "\\*";
  }
  return cell;
}

std::string markdownText(const std::vector<SettingsSection>& sections) {
  std::string text;
  for (const SettingsSection& section : sections) {
    text += (text.empty() ? "" : "\n") + std::string("#### `[") + section.name + "]` (" + section.owner + ")\n\n";
    text += "| Key | Type | Default | Range | Meaning |\n|---|---|---|---|---|\n";
    for (const Setting& setting : section.schema) {
      const std::string fallback = setting.fallback.empty() ? "empty" : "`" + std::string(setting.fallback) + "`";
      text += "| `" + std::string(setting.key) + "` | " + std::string(typeName(setting.type)) + " | " + fallback +
              " | " + markdownCell(range(setting)) + " | " + markdownCell(setting.meaning) + " |\n";
    }
  }
  return text;
}

std::string iniText(const std::vector<SettingsSection>& sections) {
  std::string text = "; Every setting at its default, each under its meaning (order-service --settings-reference=ini).\n";
  for (const SettingsSection& section : sections) {
    text += "\n[" + section.name + "]\n";
    for (const Setting& setting : section.schema) {
      if (&setting != &section.schema.front()) text += "\n";
      text += wrapped(setting.meaning, "; ") + "; " + summary(setting) + "\n";
      text += std::string(setting.key) + " =" + (setting.fallback.empty() ? "" : " " + std::string(setting.fallback)) + "\n";
    }
  }
  return text;
}

std::vector<SettingsSection> pluginSections(PluginLibraries& libraries, const std::vector<PluginRef>& storage,
                                            const std::vector<PluginRef>& routes, std::vector<std::string>& problems) {
  std::vector<SettingsSection> sections;
  const auto add = [&](const PluginRef& plugin, std::string_view kind, auto readSchema) {
    try {
      const std::string owner = std::string(kind) + " plugin " + plugin.library.filename().string();
      sections.push_back(SettingsSection{plugin.name, owner, readSchema(plugin)});
    } catch (const std::exception& error) {
      problems.push_back(error.what());
    }
  };
  const auto storageSchema = [&](const PluginRef& plugin) { return libraries.storageSettings(plugin); };
  const auto routeSchema = [&](const PluginRef& plugin) { return libraries.routeManifest(plugin).settings; };
  for (const PluginRef& plugin : storage) add(plugin, "storage", storageSchema);
  for (const PluginRef& plugin : routes) add(plugin, "route", routeSchema);
  return sections;
}

}  // namespace

std::optional<ReferenceFormat> referenceFormat(std::string_view name) {
  if (name == "help") return ReferenceFormat::Help;
  if (name == "markdown") return ReferenceFormat::Markdown;
  if (name == "ini") return ReferenceFormat::Ini;
  return std::nullopt;
}

std::string settingsReference(const std::vector<SettingsSection>& sections, ReferenceFormat format) {
  switch (format) {
    case ReferenceFormat::Markdown:
      return markdownText(sections);
    case ReferenceFormat::Ini:
      return iniText(sections);
    case ReferenceFormat::Help:
      break;
  }
  return helpText(sections);
}

std::vector<SettingsSection> namedPluginSections(PluginLibraries& libraries, const std::optional<PluginRef>& storage,
                                                 const std::vector<PluginRef>& routes,
                                                 std::vector<std::string>& problems) {
  return pluginSections(libraries, storage ? std::vector{*storage} : std::vector<PluginRef>{}, routes, problems);
}

std::vector<SettingsSection> directoryPluginSections(PluginLibraries& libraries, const std::filesystem::path& directory,
                                                     std::vector<std::string>& problems) {
  std::error_code error;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(directory, error)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with("lib") && entry.path().extension() == ".so") files.push_back(entry.path());
  }
  if (error) problems.push_back("cannot list the plugins folder " + directory.string() + ": " + error.message());
  std::sort(files.begin(), files.end());
  std::vector<PluginRef> storage;
  std::vector<PluginRef> routes;
  for (const std::filesystem::path& file : files) {
    const PluginRef plugin{storageSection(file.string()), file};
    try {
      (libraries.kind(plugin) == PluginKind::Storage ? storage : routes).push_back(plugin);
    } catch (const std::exception& failure) {
      problems.push_back(failure.what());
    }
  }
  return pluginSections(libraries, storage, routes, problems);
}

}  // namespace svc::host
