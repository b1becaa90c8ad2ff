-- wrk: POST /orders with a different valid order each time.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

request = function()
  local body = string.format('{"user_id":%d,"product_id":%d,"quantity":%d}',
    math.random(1, 1000000), math.random(1, 10000), math.random(1, 10))
  return wrk.format(nil, "/orders", nil, body)
end
