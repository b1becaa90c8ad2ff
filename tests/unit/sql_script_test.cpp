#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "migrations.h"

using svc::splitSqlScript;

TEST(SqlScript, SplitsAtSemicolonsOutsideQuotesAndComments) {
  const auto statements = splitSqlScript(R"(
    -- a comment; with a semicolon
    CREATE TABLE a (x TEXT DEFAULT 'semi;colon', "odd;name" INT);
    /* block; comment */ INSERT INTO a VALUES ('it''s; fine', 1);
    CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;
    CREATE FUNCTION g() RETURNS int AS $body$ SELECT 2; $body$ LANGUAGE sql;
    ;;
    SELECT $1
  )");
  ASSERT_EQ(statements.size(), 5u);
  EXPECT_NE(statements[0].find("'semi;colon', \"odd;name\" INT)"), std::string::npos);
  EXPECT_EQ(statements[0].find("comment"), std::string::npos);
  EXPECT_NE(statements[1].find("'it''s; fine'"), std::string::npos);
  EXPECT_NE(statements[2].find("$$ SELECT 1; $$"), std::string::npos);
  EXPECT_NE(statements[3].find("$body$ SELECT 2; $body$"), std::string::npos);
  EXPECT_NE(statements[4].find("SELECT $1"), std::string::npos);
}

TEST(SqlScript, KnowsPostgresqlsEscapeStringsIdentifiersAndNestedComments) {
  const auto statements = splitSqlScript(
      "INSERT INTO t VALUES (E'it\\'s; fine');\n"
      "CREATE TABLE a$b$ (x INT); SELECT 2;\n"
      "/* outer /* inner; */ still; comment */ SELECT 3");
  ASSERT_EQ(statements.size(), 4u);
  EXPECT_NE(statements[0].find("E'it\\'s; fine'"), std::string::npos) << statements[0];
  EXPECT_NE(statements[1].find("CREATE TABLE a$b$ (x INT)"), std::string::npos) << statements[1];
  EXPECT_NE(statements[2].find("SELECT 2"), std::string::npos);
  EXPECT_EQ(statements[3].find("still"), std::string::npos) << statements[3];
  EXPECT_NE(statements[3].find("SELECT 3"), std::string::npos);
}

TEST(SqlScript, HasNoStatementsWhenOnlyCommentsAndBlanks) {
  EXPECT_TRUE(splitSqlScript("  -- nothing\n/* at all */ ;\n").empty());
}

class MigrationFolder : public testing::Test {
 protected:
  void SetUp() override {
    directory_ = std::filesystem::temp_directory_path() /
                 ("migrations-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
                  ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(directory_);
  }
  void TearDown() override { std::filesystem::remove_all(directory_); }
  void add(const std::string& name) { std::ofstream(directory_ / name) << "SELECT 1;"; }
  std::filesystem::path directory_;
};

TEST_F(MigrationFolder, ListsMigrationsInVersionOrder) {
  add("010_later.sql");
  add("002_second.sql");
  add("1_first.sql");
  add("README.md");
  const auto migrations = svc::findMigrations(directory_);
  ASSERT_EQ(migrations.size(), 3u);
  EXPECT_EQ(migrations[0].version, 1);
  EXPECT_EQ(migrations[1].name, "002_second.sql");
  EXPECT_EQ(migrations[2].version, 10);
}

TEST_F(MigrationFolder, RefusesUnnumberedOrDuplicateVersions) {
  add("001_a.sql");
  add("create.sql");
  EXPECT_THROW(svc::findMigrations(directory_), svc::MigrationError);
  std::filesystem::remove(directory_ / "create.sql");
  add("1_b.sql");
  EXPECT_THROW(svc::findMigrations(directory_), svc::MigrationError);
}

TEST_F(MigrationFolder, RefusesAMissingFolder) {
  EXPECT_THROW(svc::findMigrations(directory_ / "nope"), svc::MigrationError);
}
