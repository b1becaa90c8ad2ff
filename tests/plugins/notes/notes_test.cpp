// The notes service through the real server, on every backend: its routes, its table, its own
// migrations, its own settings, and no other service loaded.
#include <gtest/gtest.h>

#include <string>

#include "support/service_fixture.h"

namespace {

using test_support::expectProblem;
using test_support::HttpClient;
using test_support::HttpResponse;
using test_support::RoutePluginUnderTest;

class NotesApi : public test_support::RunningServiceTest {
 protected:
  std::optional<std::vector<RoutePluginUnderTest>> routePlugins() const override {
    return std::vector<RoutePluginUnderTest>{
        {.name = "notes", .library = TEST_PLUGIN_DIR "/libtest-notes.so", .settings = {{"max_text_length", "20"}}}};
  }

  std::int64_t notes(const std::string& where = "") const { return database_->count("notes", where); }
};

TEST_F(NotesApi, StoresANoteAndReturnsIt) {
  HttpClient http = client();
  const HttpResponse created = http.postJson("/notes", R"({"text":"buy milk"})");
  ASSERT_EQ(created.status, 201) << created.body;
  const svc::json::Value note = created.json();
  const std::int64_t id = *note.find("id")->asInt64();
  EXPECT_EQ(note.find("text")->text(), "buy milk");
  EXPECT_TRUE(test_support::isRfc3339Millis(note.find("created_at")->text())) << created.body;
  EXPECT_EQ(created.header("Location"), "/notes/" + std::to_string(id));
  EXPECT_EQ(notes("WHERE text = 'buy milk'"), 1);

  const HttpResponse fetched = http.get("/notes/" + std::to_string(id));
  EXPECT_EQ(fetched.status, 200);
  EXPECT_EQ(fetched.body, created.body);
}

TEST_F(NotesApi, AnswersProblemsForAnUnknownOrInvalidNote) {
  HttpClient http = client();
  expectProblem(http.get("/notes/4242"), 404);
  expectProblem(http.get("/notes/abc"), 400);

  const HttpResponse wrongType = http.postJson("/notes", R"({"text":5})");
  expectProblem(wrongType, 422);
  EXPECT_EQ(wrongType.json().find("errors")->items().at(0).find("pointer")->text(), "/text");

  const HttpResponse tooLong = http.postJson("/notes", R"({"text":"longer than twenty bytes"})");
  expectProblem(tooLong, 422);
  EXPECT_NE(tooLong.body.find("must be 1 to 20 bytes long"), std::string::npos) << "its section's max_text_length";
  EXPECT_EQ(notes(), 0);
}

TEST_F(NotesApi, AppliesItsOwnMigrationsAndServesNoOtherService) {
  EXPECT_EQ(database_->count("plugin_migrations", "WHERE plugin = 'notes' AND version = 1 "
                                                  "AND name = '001_create_notes_table.sql'"),
            1);
  EXPECT_EQ(database_->count("plugin_migrations", "WHERE plugin <> 'notes'"), 0);
  expectProblem(client().postJson("/orders", R"({"user_id":1,"product_id":2,"quantity":3})"), 404);
}

}  // namespace
