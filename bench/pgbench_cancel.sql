-- The service's POST /orders/{id}/cancel for a random preloaded id (order_statements.h:
-- cancel_order, its RETURNING the order; $3 written as :id, the statuses and the time as values),
-- then the lookup it answers with when nothing changed (find_orders, as bench/pgbench_select.sql).
\set id random(1, 100000)
UPDATE orders SET status = 'cancelled', updated_at = now() WHERE id = :id AND status = 'created' RETURNING id, user_id, product_id, quantity, status, created_at, COALESCE(updated_at, created_at);
SELECT id, user_id, product_id, quantity, status, created_at, COALESCE(updated_at, created_at) FROM orders WHERE id = ANY(ARRAY[:id]::bigint[]);
