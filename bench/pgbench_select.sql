-- The service's SELECT for one order (plugins/orders/repository/order_repository.cpp builds it
-- for N ids), $1 written as :id.
\set id random(1, 100000)
SELECT id, user_id, product_id, quantity, status, created_at, COALESCE(updated_at, created_at) FROM orders WHERE id IN (:id);
