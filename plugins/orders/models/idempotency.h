#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "svc/timestamp.h"

namespace orders {

/// One attempt to own a key: who (a token unique to the attempt), for which request, for how long.
/// The times are durations: the database's clock sets and compares the deadlines, so that
/// instances whose clocks disagree cannot take each other's keys.
struct KeyClaim {
  std::string key;
  std::string requestHash;
  std::string ownerToken;
  /// Where the order is asked for, as the caller names it (the routes: the collection path),
  /// given back with a replay.
  std::string createdVia;
  svc::EpochMicros lockMicros = 0;      ///< another request may take over an unfinished key after this
  svc::EpochMicros lifetimeMicros = 0;  ///< the key is forgotten after this
};

/// The order a completed key created, and where its first request asked for it.
struct KeyedOrder {
  std::int64_t orderId = 0;
  std::string createdVia;
};

/// A key as stored: `order` is empty while its first request is still in flight.
struct IdempotencyRecord {
  std::string requestHash;
  std::string ownerToken;
  std::optional<KeyedOrder> order;
};

/// What one attempt to create an order under a key came to: the order it created, or (when
/// another request holds or completed the key) the key as stored, or neither when the key
/// vanished meanwhile (expired and purged).
struct CreationAttempt {
  std::optional<std::int64_t> createdId;
  std::optional<IdempotencyRecord> existing;
};

}  // namespace orders
