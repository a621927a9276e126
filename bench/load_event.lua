-- One Segment track event per request (fresh messageId each), counting answers by status and
-- checking that every 429 / 503 carries Retry-After. Used by bench/bench_load.py.
local counter = 0
local thread_tag = tostring(math.random(1, 1e9))
local threads = {}
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-API-Key"] = os.getenv("BENCH_API_KEY") or ""

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  s2xx, s429, s503, s5xx_other, s4xx_other, no_retry_after = 0, 0, 0, 0, 0, 0
  thread_tag = tostring(math.random(1, 1e9)) .. "-" .. tostring(id)
end

request = function()
  counter = counter + 1
  local body = string.format(
    '{"type":"track","event":"Product Viewed","userId":"load-%d","messageId":"load-%s-%d",' ..
    '"timestamp":"2026-11-01T10:00:00Z","properties":{"sku":"kit-%d","price":12.5}}',
    counter % 5000, thread_tag, counter, counter % 97)
  return wrk.format(nil, "/v1/events", nil, body)
end

response = function(status, headers, body)
  if status >= 200 and status < 300 then s2xx = s2xx + 1
  elseif status == 429 then s429 = s429 + 1
  elseif status == 503 then s503 = s503 + 1
  elseif status >= 500 then s5xx_other = s5xx_other + 1
  else s4xx_other = s4xx_other + 1 end
  if (status == 429 or status == 503) and headers["Retry-After"] == nil then
    no_retry_after = no_retry_after + 1
  end
end

done = function(summary, latency, requests)
  local t = {s2xx = 0, s429 = 0, s503 = 0, s5xx_other = 0, s4xx_other = 0, no_retry_after = 0}
  for _, thread in ipairs(threads) do
    for k, _ in pairs(t) do t[k] = t[k] + (thread:get(k) or 0) end
  end
  io.write(string.format(
    "STATUS 2xx=%d 429=%d 503=%d other5xx=%d other4xx=%d no_retry_after=%d\n",
    t.s2xx, t.s429, t.s503, t.s5xx_other, t.s4xx_other, t.no_retry_after))
end
