// The users plugin's rules and representation, without server or database.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "routes/user_representation.h"
#include "services/user_validation.h"
#include "svc/errors.h"
#include "svc/json.h"

namespace {

using users::NewUser;
using users::UserDraft;

UserDraft draft(std::string email, std::string name) { return UserDraft{.email = email, .name = name, .unreadable = {}}; }

/// The errors validateNewUser names for `user`, "pointer: detail" each; none when it passes.
std::vector<std::string> errorsOf(const UserDraft& user) {
  try {
    users::validateNewUser(user);
    return {};
  } catch (const svc::Invalid& invalid) {
    EXPECT_EQ(invalid.title(), "The user is invalid");
    std::vector<std::string> errors;
    for (const svc::FieldError& error : invalid.errors()) errors.push_back(error.pointer + ": " + error.detail);
    return errors;
  }
}

std::vector<std::string> emailErrors(const std::string& email) { return errorsOf(draft(email, "Ann")); }

const std::string kTooLong = "email must be at most 254 characters, not 255";

}  // namespace

TEST(UserValidation, AcceptsAPlausibleEmailAndATrimmedName) {
  const NewUser user = users::validateNewUser(draft("Ann.Smith+tag@Mail.Example.COM", " \t Ann Smith \n"));
  EXPECT_EQ(user.email, "Ann.Smith+tag@Mail.Example.COM");
  EXPECT_EQ(user.emailLower, "ann.smith+tag@mail.example.com");
  EXPECT_EQ(user.name, "Ann Smith");
}

TEST(UserValidation, RefusesEachImplausibleEmail) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "email must not be empty"},
      {"ann.example.com", "email must contain exactly one '@'"},
      {"ann@smith@example.com", "email must contain exactly one '@'"},
      {"@example.com", "email must have a local part before '@'"},
      {"ann@", "email must have a domain with a dot after '@', e.g. example.com"},
      {"ann@localhost", "email must have a domain with a dot after '@', e.g. example.com"},
      {"ann@.example.com", "email must have a domain with a dot after '@', e.g. example.com"},
      {"ann@example.com.", "email must have a domain with a dot after '@', e.g. example.com"},
      {"ann@example..com", "email must have a domain with a dot after '@', e.g. example.com"},
      {"ann smith@example.com", "email must not contain spaces or control characters"},
      {" ann@example.com", "email must not contain spaces or control characters"},
      {"ann@example.com\t", "email must not contain spaces or control characters"},
      {std::string("ann\0@example.com", 16), "email must not contain spaces or control characters"},
      {std::string(243, 'a') + "@example.com", kTooLong},
  };
  for (const auto& [email, detail] : cases) {
    EXPECT_EQ(emailErrors(email), std::vector<std::string>{"/email: " + detail}) << email;
  }
}

TEST(UserValidation, CountsCharactersNotBytes) {
  EXPECT_EQ(users::characterCount("é"), 1u);
  EXPECT_EQ(emailErrors(std::string(242, 'a') + "@example.com"), std::vector<std::string>{});  // 254
  const std::string e254 = "é" + std::string(241, 'a') + "@example.com";  // 254 characters, 255 bytes
  EXPECT_EQ(emailErrors(e254), std::vector<std::string>{});
  EXPECT_EQ(emailErrors("é" + e254), std::vector<std::string>{"/email: " + kTooLong});

  std::string name;
  for (int i = 0; i < 200; ++i) name += "é";
  EXPECT_EQ(errorsOf(draft("ann@example.com", "  " + name + "  ")), std::vector<std::string>{});
  EXPECT_EQ(errorsOf(draft("ann@example.com", name + "x")),
            std::vector<std::string>{"/name: name must be at most 200 characters, not 201"});
}

TEST(UserValidation, RefusesANameThatIsBlank) {
  for (const std::string name : {"", " ", " \t\r\n\v\f "}) {
    EXPECT_EQ(errorsOf(draft("ann@example.com", name)),
              std::vector<std::string>{"/name: name must not be empty or only spaces"})
        << "\"" << name << "\"";
  }
}

TEST(UserValidation, LowerCasesEveryLetterOfTheEmail) {
  EXPECT_EQ(users::lowerCaseEmail("ANN@EXAMPLE.COM"), "ann@example.com");
  EXPECT_EQ(users::lowerCaseEmail("ÄNNE@BEISPIEL.DE"), "änne@beispiel.de");
}

TEST(UserDraft, NamesEveryFieldInOneAnswerInTheOrderOfTheFields) {
  const svc::json::Value body = svc::json::parse(R"({"name":["Ann"],"extra":1})");
  EXPECT_EQ(errorsOf(users::readUserDraft(body)),
            (std::vector<std::string>{"/email: email is required", "/name: name must be a string, not an array"}));
  EXPECT_EQ(errorsOf(draft("ann", " ")), (std::vector<std::string>{"/email: email must contain exactly one '@'",
                                                                    "/name: name must not be empty or only spaces"}));
  EXPECT_EQ(errorsOf(users::readUserDraft(svc::json::parse("[1]"))),
            std::vector<std::string>{": the body must be a JSON object, not an array"});
}

TEST(UserRepresentation, WritesTheUserWithItsCreationTimeInUtc) {
  const users::User user{.id = 7, .email = "Ann@Example.com", .name = "Ann \"A\" Smith", .createdAt = 1'764'020'364'810'123};
  EXPECT_EQ(users::userJson(user),
            R"({"user_id":7,"email":"Ann@Example.com","name":"Ann \"A\" Smith","created_at":"2025-11-24T21:39:24.810Z"})");
}
