-- wrk: POST /orders/{id}/cancel for a random id among the BENCH_MAX_ID preloaded orders (an order
-- cancelled before answers 200 too).
local maxId = tonumber(os.getenv("BENCH_MAX_ID") or "100000")

request = function()
  return wrk.format("POST", "/orders/" .. math.random(1, maxId) .. "/cancel", nil, "")
end
