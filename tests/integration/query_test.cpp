// svc::Query on a real connection of each backend: every run starts from empty result columns,
// parameters repeat by group, timestamps and NULLs convert the same way on SQLite and PostgreSQL.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <tuple>

#include "support/test_database.h"
#include "svc/query.h"

namespace {

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
    session_.emplace(database_->connect());
  }

  std::unique_ptr<test_support::TestDatabase> database_;
  std::optional<Poco::Data::Session> session_;
};

constexpr svc::EpochMicros kWrittenAt = 1767323045678000;  // 2026-01-02T03:04:05.678Z

TEST_F(StorageQuery, StartsEveryRunFromEmptyResultColumns) {
  svc::Query<std::tuple<std::string>, std::tuple<Poco::Int64>> byOwner(*session_,
                                                                       "SELECT id FROM notes WHERE owner = $1 ORDER BY id");
  EXPECT_EQ(byOwner.run("ann").size(), 2u);
  const auto bobs = byOwner.run("bob");
  ASSERT_EQ(bobs.size(), 1u) << "rows of the previous run survived";
  EXPECT_EQ(bobs.get<0>(0), 3);
  EXPECT_TRUE(byOwner.run("nobody").empty());
}

TEST_F(StorageQuery, ReadsNullAsAnEmptyOptionalAndTimestampsAsInstants) {
  svc::Query<std::tuple<Poco::Int64>, std::tuple<std::optional<std::string>, svc::Timestamp>> byId(
      *session_, "SELECT body, written_at FROM notes WHERE id = $1");
  const auto [body, writtenAt] = byId.run(1).at(0);
  EXPECT_EQ(body, "a");
  EXPECT_EQ(writtenAt.micros, kWrittenAt);
  EXPECT_EQ(std::get<0>(byId.run(2).at(0)), std::nullopt);
}

TEST_F(StorageQuery, WritesTimestampsAndNullsTheWayItReadsThem) {
  svc::Query<std::tuple<Poco::Int64, std::optional<std::string>, svc::Timestamp>, std::tuple<Poco::Int64>> insert(
      *session_, "INSERT INTO notes (id, owner, body, written_at) VALUES ($1, 'cy', $2, $3) RETURNING id");
  EXPECT_EQ(insert.run(10, std::nullopt, svc::Timestamp{kWrittenAt + 1000}).get<0>(0), 10);
  svc::Query<std::tuple<Poco::Int64>, std::tuple<std::optional<std::string>, svc::Timestamp>> byId(
      *session_, "SELECT body, written_at FROM notes WHERE id = $1");
  const auto [body, writtenAt] = byId.run(10).at(0);
  EXPECT_EQ(body, std::nullopt);
  EXPECT_EQ(writtenAt.micros, kWrittenAt + 1000);
}

TEST_F(StorageQuery, RepeatsItsParametersByGroup) {
  svc::Query<std::tuple<Poco::Int64>, std::tuple<std::string>> owners(
      *session_, "SELECT owner FROM notes WHERE id IN ($1, $2) ORDER BY id", 2);
  const auto rows = owners.runGroups({{1}, {3}}).all();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(std::get<0>(rows[0]), "ann");
  EXPECT_EQ(std::get<0>(rows[1]), "bob");
  EXPECT_THROW(owners.runGroups({{1}}), std::logic_error);
  EXPECT_THROW(owners.run(1), std::logic_error);
}

TEST_F(StorageQuery, FailsOnlyTheRowOfAnUnreadableTimestamp) {
  if (database_->backendName() != "sqlite") GTEST_SKIP() << "PostgreSQL's TIMESTAMPTZ cannot hold an unreadable value";
  database_->execute("UPDATE notes SET written_at = 'garbage' WHERE id = 2");
  svc::Query<std::tuple<>, std::tuple<Poco::Int64, svc::Timestamp>> all(*session_,
                                                                       "SELECT id, written_at FROM notes ORDER BY id");
  const auto rows = all.run();
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
}

TEST_F(StorageQuery, CountsChangedRowsOfAStatementWithoutColumns) {
  svc::Query<std::tuple<std::string>, std::tuple<>> remove(*session_, "DELETE FROM notes WHERE owner = $1");
  EXPECT_EQ(remove.run("ann").size(), 2u);
  EXPECT_EQ(remove.run("ann").size(), 0u);
}

}  // namespace
