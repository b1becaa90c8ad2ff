-- The service's INSERT for one order (plugins/orders/repository/order_repository.cpp builds it
-- for N orders): $1..$3 as :vars, $4 is always 'created', $5 a random request token.
\set user_id random(1, 1000000)
\set product_id random(1, 10000)
\set quantity random(1, 10)
\set request_token random(1, 9223372036854775806)
INSERT INTO orders (user_id, product_id, quantity, status, request_token) VALUES (:user_id, :product_id, :quantity, 'created', :request_token) RETURNING id, user_id, product_id, quantity, status;
