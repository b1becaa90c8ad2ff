-- The service's SELECT for one order (order_statements.h: find_orders, which takes an array of
-- ids of any length): the array of one id written as ARRAY[:id].
\set id random(1, 100000)
SELECT id, user_id, product_id, quantity, status, created_at, COALESCE(updated_at, created_at) FROM orders WHERE id = ANY(ARRAY[:id]::bigint[]);
