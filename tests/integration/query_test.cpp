// svc::Query through a pooled connection of each backend: every run starts from fresh rows,
// parameters bind by their number, arrays and NULLs pass, timestamps read the same way on SQLite
// and PostgreSQL, and a statement may have a text per backend.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <tuple>

#include "integration/pool_under_test.h"
#include "support/capturing_sink.h"
#include "support/test_database.h"
#include "svc/storage.h"

namespace {

using Ids = std::vector<std::int64_t>;

constexpr svc::EpochMicros kWrittenAt = 1767323045678000;  // 2026-01-02T03:04:05.678Z

class StorageQuery : public testing::Test {
 protected:
  void SetUp() override {
    database_ = test_support::TestDatabase::create(test_support::backendUnderTest());
    const std::string timestampType = database_->backendName() == "postgresql" ? "TIMESTAMPTZ" : "TEXT";
    database_->execute("CREATE TABLE notes (id BIGINT PRIMARY KEY, owner TEXT NOT NULL, body TEXT, written_at " +
                       timestampType + ")");
    database_->execute(
        "INSERT INTO notes (id, owner, body, written_at) VALUES (1, 'ann', 'a', '2026-01-02 03:04:05.678+00'), "
        "(2, 'ann', NULL, '2026-01-02 03:04:05.678+00'), (3, 'bob', 'c', '2026-01-02 03:04:05.678+00')");
    pool_ = test_support::makeTestPool(*database_, database_->storageSettings(), {.schemas = {}}, logger_);
  }

  /// Runs `work` on a lease of the pool.
  template <class Work>
  auto withLease(Work&& work) {
    return pool_->withSession(std::forward<Work>(work));
  }

  std::unique_ptr<test_support::TestDatabase> database_;
  svc::Logger logger_{"test", svc::LogFormat::Json, svc::LogLevel::Debug,
                      std::make_shared<test_support::CapturingSink>()};
  std::shared_ptr<svc::SessionPool> pool_;
};

TEST_F(StorageQuery, StartsEveryRunFromFreshRows) {
  const svc::Query<std::tuple<std::string>, std::tuple<std::int64_t>> byOwner{
      svc::Sql{"notes_by_owner", "SELECT id FROM notes WHERE owner = $1 ORDER BY id"}};
  withLease([&](svc::SessionLease& lease) {
    EXPECT_EQ(byOwner.run(lease, "ann").size(), 2u);
    const auto bobs = byOwner.run(lease, "bob");
    ASSERT_EQ(bobs.size(), 1u) << "rows of the previous run survived";
    EXPECT_EQ(bobs.get<0>(0), 3);
    EXPECT_TRUE(byOwner.run(lease, "nobody").empty());
  });
}

TEST_F(StorageQuery, ReadsNullAsAnEmptyOptionalAndTimestampsAsInstants) {
  const svc::Query<std::tuple<std::int64_t>, std::tuple<std::optional<std::string>, svc::Timestamp>> byId{
      svc::Sql{"note_by_id", "SELECT body, written_at FROM notes WHERE id = $1"}};
  withLease([&](svc::SessionLease& lease) {
    const auto [body, writtenAt] = byId.run(lease, 1).at(0);
    EXPECT_EQ(body, "a");
    EXPECT_EQ(writtenAt.micros, kWrittenAt);
    EXPECT_EQ(std::get<0>(byId.run(lease, 2).at(0)), std::nullopt);
  });
}

TEST_F(StorageQuery, WritesTimestampsAndNullsTheWayItReadsThem) {
  const svc::Query<std::tuple<std::int64_t, std::optional<std::string>, svc::Timestamp>, std::tuple<std::int64_t>> insert{
      svc::Sql{"insert_note", "INSERT INTO notes (id, owner, body, written_at) VALUES ($1, 'cy', $2, $3) RETURNING id"}};
  const svc::Query<std::tuple<std::int64_t>, std::tuple<std::optional<std::string>, svc::Timestamp>> byId{
      svc::Sql{"note_by_id", "SELECT body, written_at FROM notes WHERE id = $1"}};
  withLease([&](svc::SessionLease& lease) {
    EXPECT_EQ(insert.run(lease, 10, std::nullopt, svc::Timestamp{kWrittenAt + 1000}).get<0>(0), 10);
    const auto [body, writtenAt] = byId.run(lease, 10).at(0);
    EXPECT_EQ(body, std::nullopt);
    EXPECT_EQ(writtenAt.micros, kWrittenAt + 1000);
  });
}

// POCO 1.11 bound SQLite's $n by first appearance: "$2 ... $1" bound the wrong values.
TEST_F(StorageQuery, BindsEachParameterByItsNumberWhereverAndHoweverOftenItAppears) {
  const svc::Query<std::tuple<std::string, std::int64_t>, std::tuple<std::int64_t>> query{svc::Sql{
      "by_id_and_owner", "SELECT id FROM notes WHERE id = $2 AND owner = $1 AND (id = $2 OR owner <> $1)"}};
  withLease([&](svc::SessionLease& lease) {
    const auto rows = query.run(lease, "bob", 3);
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows.get<0>(0), 3);
    EXPECT_TRUE(query.run(lease, "ann", 3).empty());
  });
}

TEST_F(StorageQuery, PassesAnArrayOfIntegersAsOneParameter) {
  const svc::Query<std::tuple<Ids>, std::tuple<std::string>> owners{svc::Sql{
      "owners_of",
      {"postgresql", "SELECT owner FROM notes WHERE id = ANY($1::bigint[]) ORDER BY id"},
      {"sqlite", "SELECT owner FROM notes WHERE id IN (SELECT value FROM json_each($1)) ORDER BY id"}}};
  withLease([&](svc::SessionLease& lease) {
    const auto rows = owners.run(lease, Ids{1, 3, 99}).all();
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(std::get<0>(rows[0]), "ann");
    EXPECT_EQ(std::get<0>(rows[1]), "bob");
    EXPECT_TRUE(owners.run(lease, Ids{}).empty());
  });
}

TEST_F(StorageQuery, RefusesAStatementWithoutATextForTheBackend) {
  const svc::Sql onlyOther{"only_other", {"other", "SELECT 1"}, {"another", "SELECT 2"}};
  EXPECT_THROW(onlyOther.textFor(database_->backendName()), std::invalid_argument);
}

TEST_F(StorageQuery, FailsOnlyTheRowOfAnUnreadableTimestamp) {
  if (database_->backendName() != "sqlite") GTEST_SKIP() << "PostgreSQL's TIMESTAMPTZ cannot hold an unreadable value";
  database_->execute("UPDATE notes SET written_at = 'garbage' WHERE id = 2");
  const svc::Query<std::tuple<>, std::tuple<std::int64_t, svc::Timestamp>> all{
      svc::Sql{"all_notes", "SELECT id, written_at FROM notes ORDER BY id"}};
  withLease([&](svc::SessionLease& lease) {
    const auto rows = all.run(lease);
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(std::get<1>(rows.at(0)).micros, kWrittenAt);
    try {
      rows.at(1);
      ADD_FAILURE() << "an unreadable timestamp was read";
    } catch (const svc::UnreadableColumn& unreadable) {
      EXPECT_EQ(unreadable.column(), 1u);
      EXPECT_EQ(unreadable.text(), "garbage");
    }
    EXPECT_EQ(rows.get<0>(1), 2) << "the other columns of that row stay readable";
    EXPECT_EQ(std::get<1>(rows.at(2)).micros, kWrittenAt);
  });
}

TEST_F(StorageQuery, CountsChangedRowsOfAStatementWithoutColumns) {
  const svc::Query<std::tuple<std::string>, std::tuple<>> remove{
      svc::Sql{"remove_notes_of", "DELETE FROM notes WHERE owner = $1"}};
  withLease([&](svc::SessionLease& lease) {
    EXPECT_EQ(remove.run(lease, "ann").size(), 2u);
    EXPECT_EQ(remove.run(lease, "ann").size(), 0u);
  });
}

}  // namespace
