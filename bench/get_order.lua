-- wrk: GET /orders/{id} for a random id among the BENCH_MAX_ID preloaded orders.
local maxId = tonumber(os.getenv("BENCH_MAX_ID") or "100000")

request = function()
  return wrk.format("GET", "/orders/" .. math.random(1, maxId))
end
