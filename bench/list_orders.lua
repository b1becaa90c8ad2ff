-- wrk: GET /orders?user_id=<random>&limit=20, a page of the newest orders of one of the
-- BENCH_USERS users the preload spreads its orders over.
local users = tonumber(os.getenv("BENCH_USERS") or "10000")

request = function()
  return wrk.format("GET", "/orders?user_id=" .. math.random(1, users) .. "&limit=20")
end
