#include "repository/returned_rows.h"

#include <stdexcept>

namespace orders {

namespace {

bool sameContent(const OrderRow& a, const OrderRow& b) {
  return a.order.userId == b.order.userId && a.order.productId == b.order.productId &&
         a.order.quantity == b.order.quantity && a.status == b.status;
}

}  // namespace

std::vector<std::int64_t> matchReturnedRows(const std::vector<OrderRow>& requested,
                                            const std::vector<StoredRow>& returned) {
  std::vector<std::int64_t> ids;
  std::vector<bool> given(returned.size(), false);
  for (const OrderRow& row : requested) {
    std::size_t match = 0;
    while (match < returned.size() && (given[match] || !sameContent(returned[match].row, row))) ++match;
    if (match == returned.size()) throw std::logic_error("INSERT ... RETURNING gave back no row for an order");
    given[match] = true;
    ids.push_back(returned[match].id);
  }
  return ids;
}

}  // namespace orders
