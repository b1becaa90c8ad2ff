-- wrk: POST /orders with a different valid order each time, for one of BENCH_USERS users (the
-- users the User Service knows when it validates them).
local users = tonumber(os.getenv("BENCH_USERS") or "10000")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

request = function()
  local body = string.format('{"user_id":%d,"product_id":%d,"quantity":%d}',
    math.random(1, users), math.random(1, 10000), math.random(1, 10))
  return wrk.format(nil, "/orders", nil, body)
end
