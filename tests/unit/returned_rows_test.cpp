#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "repository/returned_rows.h"

using orders::OrderRow;
using orders::StoredRow;

namespace {

OrderRow row(int user, int product, int quantity) { return OrderRow{{user, product, quantity}, "created"}; }

}  // namespace

TEST(ReturnedRows, GiveEachOrderTheIdOfTheRowHoldingIt) {
  const std::vector<OrderRow> requested{row(1, 1, 1), row(2, 2, 2), row(3, 3, 3)};
  std::vector<StoredRow> returned{{12, requested[1]}, {13, requested[2]}, {11, requested[0]}};
  EXPECT_EQ(orders::matchReturnedRows(requested, returned), (std::vector<std::int64_t>{11, 12, 13}));
}

TEST(ReturnedRows, GiveIdenticalOrdersDistinctIdsInAnyOrder) {
  std::vector<OrderRow> requested;
  std::vector<StoredRow> returned;
  for (int i = 0; i < 64; ++i) {
    requested.push_back(i % 3 == 0 ? row(1, 7, 1) : row(i, i, i));
    returned.push_back(StoredRow{100 + i, requested.back()});
  }
  std::shuffle(returned.begin(), returned.end(), std::mt19937(42));
  const auto ids = orders::matchReturnedRows(requested, returned);
  for (std::size_t i = 0; i < requested.size(); ++i) {
    const auto stored = std::find_if(returned.begin(), returned.end(), [&](const StoredRow& r) { return r.id == ids[i]; });
    ASSERT_NE(stored, returned.end());
    EXPECT_EQ(stored->row.order.userId, requested[i].order.userId);
    EXPECT_EQ(stored->row.order.quantity, requested[i].order.quantity);
  }
  std::vector<std::int64_t> sorted = ids;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(std::adjacent_find(sorted.begin(), sorted.end()), sorted.end()) << "an id was given twice";
}

TEST(ReturnedRows, RefuseRowsThatDoNotAccountForEveryOrder) {
  EXPECT_THROW(orders::matchReturnedRows({row(1, 1, 1), row(1, 1, 1)}, {{5, row(1, 1, 1)}}), std::logic_error);
  EXPECT_THROW(orders::matchReturnedRows({row(1, 1, 1)}, {{5, row(1, 1, 2)}}), std::logic_error);
  EXPECT_THROW(orders::matchReturnedRows({row(1, 1, 1)}, {{5, OrderRow{{1, 1, 1}, "cancelled"}}}), std::logic_error);
}
