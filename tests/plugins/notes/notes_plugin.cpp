// notes: a tests-only service with its own table. POST /notes {"text": "..."} stores a note,
// GET /notes/{id} returns it. Laid out as every plugin is: routes (HTTP <-> Note) -> NoteService
// (the rules, domain errors) -> NoteRepository (the only SQL) -> the host's sessions.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <tuple>

#include "svc/route_plugin.h"

namespace {

struct Note {
  std::int64_t id = 0;
  std::string text;
  svc::EpochMicros createdAt = 0;
};

constexpr svc::Sql kInsertNote{"insert_note", "INSERT INTO notes (text) VALUES ($1) RETURNING id, created_at"};
constexpr svc::Sql kNoteById{"note_by_id", "SELECT text, created_at FROM notes WHERE id = $1"};

class NoteRepository {
 public:
  explicit NoteRepository(svc::Storage& storage) : storage_(storage) {}

  Note insert(const std::string& text) {
    return storage_.withSession([&](svc::SessionLease& lease) {
      const auto [id, createdAt] = insert_.run(lease, text).at(0);
      return Note{.id = id, .text = text, .createdAt = createdAt.micros};
    });
  }

  std::optional<Note> find(std::int64_t id) {
    return storage_.withSession([&](svc::SessionLease& lease) -> std::optional<Note> {
      const auto rows = byId_.run(lease, id);
      if (rows.empty()) return std::nullopt;
      auto [text, createdAt] = rows.at(0);
      return Note{.id = id, .text = std::move(text), .createdAt = createdAt.micros};
    });
  }

 private:
  svc::Storage& storage_;
  const svc::Query<std::tuple<std::string>, std::tuple<std::int64_t, svc::Timestamp>> insert_{kInsertNote};
  const svc::Query<std::tuple<std::int64_t>, std::tuple<std::string, svc::Timestamp>> byId_{kNoteById};
};

class NoteService {
 public:
  NoteService(NoteRepository& repository, std::size_t maxLength) : repository_(repository), maxLength_(maxLength) {}

  Note create(const std::string& text) {
    if (text.empty() || text.size() > maxLength_) {
      throw svc::Invalid("The note is not valid",
                         {{"/text", "must be 1 to " + std::to_string(maxLength_) + " bytes long"}});
    }
    return repository_.insert(text);
  }

  Note find(std::int64_t id) {
    if (auto note = repository_.find(id)) return *note;
    throw svc::NotFound("Note " + std::to_string(id) + " does not exist");
  }

 private:
  NoteRepository& repository_;
  const std::size_t maxLength_;
};

svc::Response noteResponse(int status, const Note& note) {
  return svc::Response::json(status, svc::json::ObjectWriter()
                                          .add("id", note.id)
                                          .add("text", note.text)
                                          .add("created_at", svc::formatRfc3339Millis(note.createdAt))
                                          .str());
}

constexpr svc::Setting kSettings[] = {
    svc::Setting::integer("max_text_length", "1000", 1, 100000, "The longest note, in bytes"),
};

svc::RoutePluginManifest manifest() { return {.schema = "notes", .settings = kSettings}; }

class NotesPlugin final : public svc::RoutePlugin {
 public:
  explicit NotesPlugin(const svc::PluginContext& context)
      : repository_(context.requireStorage()),
        service_(repository_, static_cast<std::size_t>(context.settings.integer("max_text_length"))) {}

  void registerRoutes(svc::RouteRegistry& routes) override {
    routes.add("POST", "/notes", [this](const svc::Request& request) {
      const svc::json::Value body = svc::parseJsonBody(request);
      svc::json::ObjectReader reader(body);
      const std::optional<std::string> text = reader.string("text");
      reader.finish("The note is not valid");
      const Note note = service_.create(*text);
      return noteResponse(201, note).withHeader("Location", request.path() + "/" + std::to_string(note.id));
    });
    routes.add("GET", "/notes/{id}", [this](const svc::Request& request) {
      return noteResponse(200, service_.find(svc::positiveIdParam(request, "id")));
    });
  }

 private:
  NoteRepository repository_;
  NoteService service_;
};

std::unique_ptr<svc::RoutePlugin> createNotesPlugin(const svc::PluginContext& context) {
  return std::make_unique<NotesPlugin>(context);
}

}  // namespace

SVC_ROUTE_PLUGIN(createNotesPlugin, manifest)
