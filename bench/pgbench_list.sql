-- The service's listing of one user's newest orders (order_statements.h: list_orders_of_user), $1
-- as :user_id, the cursor of a first page (the largest id) and the limit as values: GET
-- /orders?limit=20 asks for 21 rows, the one more tells whether a next page exists.
\set user_id random(1, 10000)
SELECT id, user_id, product_id, quantity, status, created_at, COALESCE(updated_at, created_at) FROM orders WHERE user_id = :user_id AND id < 9223372036854775807 ORDER BY id DESC LIMIT 21;
