#pragma once

#include <cstdint>
#include <vector>

#include "models/order.h"

namespace orders {

/// A row as INSERT ... RETURNING gives it back.
struct StoredRow {
  std::int64_t id = 0;
  OrderRow row;
};

/// The id for each of `requested`, taken from a `returned` row with the same content, each
/// returned row given once. RETURNING promises no order (SQLite says so), and rows with the
/// same content are interchangeable. Throws std::logic_error when a requested row has no match.
std::vector<std::int64_t> matchReturnedRows(const std::vector<OrderRow>& requested,
                                            const std::vector<StoredRow>& returned);

}  // namespace orders
