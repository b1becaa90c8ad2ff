-- The service's listing of one user's newest orders (plugins/orders/repository/order_repository.cpp,
-- listSql() with a user_id filter), $1 and $2 written as :user_id and :limit. GET /orders?limit=20
-- asks for 21 rows: the one more tells whether a next page exists (OrderService::list).
\set user_id random(1, 10000)
\set limit 21
SELECT id, user_id, product_id, quantity, status, created_at, COALESCE(updated_at, created_at) FROM orders WHERE user_id = :user_id ORDER BY id DESC LIMIT :limit;
