#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "svc/timestamp.h"

namespace orders {

/// One attempt to own an Idempotency-Key: who (a token unique to the attempt), for which order,
/// for how long. The times are durations: the database's clock sets and compares the deadlines,
/// so that instances whose clocks disagree cannot take each other's keys.
struct KeyClaim {
  std::string key;
  std::string requestHash;
  std::string ownerToken;
  svc::EpochMicros lockMicros = 0;      ///< another request may take over an unfinished key after this
  svc::EpochMicros lifetimeMicros = 0;  ///< the key is forgotten after this
};

/// A key as stored: `orderId` is empty while its first request is still in flight.
struct IdempotencyRecord {
  std::string requestHash;
  std::string ownerToken;
  std::optional<std::int64_t> orderId;
};

/// What one attempt to create an order under a key came to: the order it created, or (when
/// another request holds or completed the key) the key as stored, or neither when the key
/// vanished meanwhile (expired and purged).
struct CreationAttempt {
  std::optional<std::int64_t> createdId;
  std::optional<IdempotencyRecord> existing;
};

}  // namespace orders
