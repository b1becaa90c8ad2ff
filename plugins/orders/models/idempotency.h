#pragma once

#include <optional>
#include <string>

#include "svc/timestamp.h"

namespace orders {

/// The answer to a request made with an Idempotency-Key, stored to be replayed.
struct StoredResponse {
  int status = 0;
  std::string body;
  std::string location;
};

/// One attempt to own a key: who (a token unique to the attempt), for which request, until when.
struct KeyClaim {
  std::string key;
  std::string requestHash;
  std::string ownerToken;
  svc::EpochMicros now = 0;
  svc::EpochMicros lockedUntil = 0;  ///< another request may take over an unfinished key after this
  svc::EpochMicros expiresAt = 0;    ///< the key is forgotten after this
};

/// A key as stored: `response` is empty while its first request is still in flight.
struct IdempotencyRecord {
  std::string requestHash;
  std::optional<StoredResponse> response;
};

}  // namespace orders
