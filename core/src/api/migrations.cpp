#include "migrations.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>

namespace svc {

namespace {

bool isIdentifierChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$'; }

// The end of the block comment at `pos`, which PostgreSQL lets nest.
std::size_t skipBlockComment(std::string_view sql, std::size_t pos) {
  int depth = 0;
  while (pos < sql.size()) {
    if (sql.substr(pos, 2) == "/*") {
      ++depth;
      pos += 2;
    } else if (sql.substr(pos, 2) == "*/") {
      pos += 2;
      if (--depth == 0) return pos;
    } else {
      ++pos;
    }
  }
  return sql.size();
}

bool isBlank(std::string_view statement) {
  return std::all_of(statement.begin(), statement.end(), [](unsigned char c) { return std::isspace(c); });
}

// The end of the quoted text starting at `pos` (just after the closing quote); a doubled quote
// escapes, and in an E'...' string (PostgreSQL) so does a backslash.
std::size_t skipQuoted(std::string_view sql, std::size_t pos, char quote) {
  const bool backslashEscapes = quote == '\'' && pos > 0 && (sql[pos - 1] == 'E' || sql[pos - 1] == 'e') &&
                                (pos < 2 || !isIdentifierChar(sql[pos - 2]));
  for (++pos; pos < sql.size(); ++pos) {
    if (backslashEscapes && sql[pos] == '\\') {
      ++pos;
      continue;
    }
    if (sql[pos] != quote) continue;
    if (pos + 1 < sql.size() && sql[pos + 1] == quote) {
      ++pos;
      continue;
    }
    return pos + 1;
  }
  return sql.size();
}

// A PostgreSQL dollar-quote tag ($$ or $name$) at `pos`, or an empty view.
std::string_view dollarTag(std::string_view sql, std::size_t pos) {
  std::size_t end = pos + 1;
  while (end < sql.size() && (std::isalnum(static_cast<unsigned char>(sql[end])) || sql[end] == '_')) ++end;
  if (end < sql.size() && sql[end] == '$' && !std::isdigit(static_cast<unsigned char>(sql[pos + 1]))) {
    return sql.substr(pos, end - pos + 1);
  }
  return {};
}

// Where the construct at `pos` that may hide a ';' ends, or `pos` when there is none.
std::size_t skipNonCode(std::string_view sql, std::size_t pos) {
  const char c = sql[pos];
  if (c == '\'' || c == '"') return skipQuoted(sql, pos, c);
  if (sql.substr(pos, 2) == "--") {
    const std::size_t end = sql.find('\n', pos);
    return end == std::string_view::npos ? sql.size() : end;
  }
  if (sql.substr(pos, 2) == "/*") return skipBlockComment(sql, pos);
  if (c == '$' && (pos == 0 || !isIdentifierChar(sql[pos - 1]))) {  // not inside an identifier like a$b
    const std::string_view tag = dollarTag(sql, pos);
    if (!tag.empty()) {
      const std::size_t end = sql.find(tag, pos + tag.size());
      return end == std::string_view::npos ? sql.size() : end + tag.size();
    }
  }
  return pos;
}

std::string withoutComments(std::string_view statement) {
  std::string code;
  for (std::size_t pos = 0; pos < statement.size();) {
    const std::size_t skipped = skipNonCode(statement, pos);
    const bool isComment = statement.substr(pos, 2) == "--" || statement.substr(pos, 2) == "/*";
    if (skipped == pos) {
      code += statement[pos++];
    } else {
      if (!isComment) code.append(statement.substr(pos, skipped - pos));
      pos = skipped;
    }
  }
  return code;
}

std::string readFile(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw MigrationError("cannot read migration " + file.string());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

using Record = std::pair<std::string, int>;  // (plugin, version)

constexpr Statement kCreateRecords{
    "create_plugin_migrations",
    "CREATE TABLE IF NOT EXISTS plugin_migrations (plugin VARCHAR(255) NOT NULL, version INTEGER NOT NULL, "
    "name VARCHAR(255) NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP, "
    "PRIMARY KEY (plugin, version))"};
constexpr Statement kSelectRecords{"select_plugin_migrations", "SELECT plugin, version FROM plugin_migrations"};
constexpr Statement kInsertRecord{"insert_plugin_migration",
                                  "INSERT INTO plugin_migrations (plugin, version, name) VALUES ($1, $2, $3)"};
constexpr Statement kCreateLegacyRecords{
    "create_schema_migrations",
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
    "name VARCHAR(255) NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP)"};
constexpr Statement kSelectUnadoptedLegacyRecords{
    "select_unadopted_schema_migrations",
    "SELECT version, name FROM schema_migrations AS legacy WHERE NOT EXISTS (SELECT 1 FROM "
    "plugin_migrations AS adopted WHERE adopted.version = legacy.version AND adopted.name = legacy.name)"};
constexpr Statement kAdoptLegacyRecord{
    "adopt_schema_migration",
    "INSERT INTO plugin_migrations (plugin, version, name, applied_at) "
    "VALUES ($1, $2, $3, (SELECT applied_at FROM schema_migrations WHERE version = $2))"};

std::set<Record> recordedMigrations(StorageConnection& connection) {
  connection.runScript(kCreateRecords.text);
  const SqlResult& rows = connection.run(kSelectRecords, {});
  std::set<Record> recorded;
  for (std::size_t row = 0; row < rows.rows(); ++row) {
    recorded.emplace(std::string(rows.text(row, 0)), static_cast<int>(rows.integer(row, 1)));
  }
  return recorded;
}

// The (version, name) rows of schema_migrations, which releases before per-plugin migrations
// kept, that no plugin has adopted yet. The table is created (empty) where it is missing, so that
// telling "no such table" from any other failure never depends on the database's wording or language.
std::set<std::pair<int, std::string>> legacyRecords(StorageConnection& connection) {
  connection.runScript(kCreateLegacyRecords.text);
  const SqlResult& rows = connection.run(kSelectUnadoptedLegacyRecords, {});
  std::set<std::pair<int, std::string>> records;
  for (std::size_t row = 0; row < rows.rows(); ++row) {
    records.emplace(static_cast<int>(rows.integer(row, 0)), std::string(rows.text(row, 1)));
  }
  return records;
}

// The values of a migration's record in plugin_migrations: plugin, version, name.
std::array<SqlValue, 3> recordOf(const Migration& migration) {
  return {std::string_view(migration.plugin), static_cast<std::int64_t>(migration.version),
          std::string_view(migration.name)};
}

}  // namespace

std::vector<std::string> splitSqlScript(std::string_view script) {
  std::vector<std::string> statements;
  std::size_t start = 0;
  for (std::size_t pos = 0; pos < script.size();) {
    const std::size_t skipped = skipNonCode(script, pos);
    if (skipped != pos) {
      pos = skipped;
      continue;
    }
    if (script[pos] == ';') {
      std::string statement = withoutComments(script.substr(start, pos - start));
      if (!isBlank(statement)) statements.push_back(std::move(statement));
      start = pos + 1;
    }
    ++pos;
  }
  std::string last = withoutComments(script.substr(start));
  if (!isBlank(last)) statements.push_back(std::move(last));
  return statements;
}

std::vector<Migration> findMigrations(const std::filesystem::path& directory, const std::string& plugin) {
  std::error_code error;
  if (!std::filesystem::is_directory(directory, error)) {
    throw MigrationError("migrations folder " + directory.string() + " does not exist");
  }
  std::vector<Migration> migrations;
  for (const auto& entry : std::filesystem::directory_iterator(directory)) {
    if (entry.path().extension() != ".sql") continue;
    const std::string name = entry.path().filename().string();
    const std::size_t digits = name.find_first_not_of("0123456789");
    if (digits == 0 || digits == std::string::npos || name[digits] != '_') {
      throw MigrationError("migration " + entry.path().string() + " is not named NNN_description.sql");
    }
    migrations.push_back(Migration{plugin, std::stoi(name.substr(0, digits)), name, entry.path()});
  }
  std::sort(migrations.begin(), migrations.end(), [](const auto& a, const auto& b) { return a.version < b.version; });
  for (std::size_t i = 1; i < migrations.size(); ++i) {
    if (migrations[i].version == migrations[i - 1].version) {
      throw MigrationError("migrations " + migrations[i - 1].name + " and " + migrations[i].name +
                           " have the same version");
    }
  }
  return migrations;
}

std::vector<Migration> findPluginMigrations(const std::filesystem::path& root, const std::vector<std::string>& plugins,
                                            const std::string& backend) {
  std::error_code error;
  if (!std::filesystem::is_directory(root, error)) {
    throw MigrationError("migrations folder " + root.string() + " does not exist");
  }
  std::vector<Migration> migrations;
  for (const std::string& plugin : plugins) {
    const std::filesystem::path folder = root / plugin / backend;
    if (!std::filesystem::is_directory(folder, error)) continue;
    for (Migration& migration : findMigrations(folder, plugin)) migrations.push_back(std::move(migration));
  }
  return migrations;
}

PendingMigrations pendingMigrations(StorageConnection& connection, const std::vector<Migration>& migrations) {
  const std::set<Record> recorded = recordedMigrations(connection);
  PendingMigrations result;
  std::copy_if(migrations.begin(), migrations.end(), std::back_inserter(result.pending),
               [&](const Migration& migration) { return !recorded.contains({migration.plugin, migration.version}); });
  if (result.pending.empty()) return result;
  std::set<std::pair<int, std::string>> legacy = legacyRecords(connection);
  std::vector<Migration> pending;
  for (Migration& migration : result.pending) {
    if (legacy.erase({migration.version, migration.name}) == 0) {
      pending.push_back(std::move(migration));
      continue;
    }
    connection.run(kAdoptLegacyRecord, recordOf(migration));
    result.adopted.push_back(std::move(migration));
  }
  result.pending = std::move(pending);
  return result;
}

std::vector<std::string> statementsOf(const Migration& migration) { return splitSqlScript(readFile(migration.file)); }

void applyMigration(StorageConnection& connection, const Migration& migration) {
  for (const std::string& statement : statementsOf(migration)) connection.runScript(statement);
  connection.run(kInsertRecord, recordOf(migration));
}

}  // namespace svc
