-- One Segment track event per request, each with a fresh messageId (so every request stores a row).
local counter = 0
local thread_tag = tostring(math.random(1, 1e9))
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-API-Key"] = os.getenv("BENCH_API_KEY") or ""

request = function()
  counter = counter + 1
  local body = string.format(
    '{"type":"track","event":"Product Viewed","userId":"bench-%d","messageId":"wrk-%s-%d",' ..
    '"timestamp":"2026-11-01T10:00:00Z","properties":{"sku":"kit-%d","price":12.5},' ..
    '"context":{"page":{"path":"/recipes/%d"},"campaign":{"source":"google","medium":"cpc"}}}',
    counter % 5000, thread_tag, counter, counter % 97, counter % 211)
  return wrk.format(nil, "/v1/events", nil, body)
end
