-- The service's POST /orders/{id}/cancel for a random preloaded id: its UPDATE
-- (plugins/orders/repository/order_repository.cpp, kCancelSql; $3 written as :id, the statuses and
-- the time as values), then the SELECT it answers with (as bench/pgbench_select.sql).
\set id random(1, 100000)
UPDATE orders SET status = 'cancelled', updated_at = now() WHERE id = :id AND status = 'created' RETURNING id;
SELECT id, user_id, product_id, quantity, status, created_at, COALESCE(updated_at, created_at) FROM orders WHERE id IN (:id);
