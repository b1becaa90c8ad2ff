-- The service's INSERT for one order (order_statements.h: insert_orders, which takes arrays of any
-- length): the arrays of one element written as ARRAY[:var], $5 always 'created', a random request token.
\set user_id random(1, 10000)
\set product_id random(1, 10000)
\set quantity random(1, 10)
\set request_token random(1, 9223372036854775806)
INSERT INTO orders (user_id, product_id, quantity, request_token, status) SELECT batch.user_id, batch.product_id, batch.quantity, batch.request_token, 'created' FROM unnest(ARRAY[:user_id]::int[], ARRAY[:product_id]::int[], ARRAY[:quantity]::int[], ARRAY[:request_token]::bigint[]) AS batch(user_id, product_id, quantity, request_token) RETURNING id, request_token;
