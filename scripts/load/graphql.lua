-- wrk script for scripts/load-test: POSTs GraphQL bodies to /graphql with the
-- owner's token, and counts responses that are not 2xx or carry "errors".
--
--   BODIES=file TOKEN=… wrk -s scripts/load/graphql.lua http://127.0.0.1:PORT/graphql
--
-- THINK_MS (optional) makes each connection wait that long between its answer and
-- its next request, so N connections offer at most N*1000/THINK_MS requests/s
-- instead of as many as the server can take; latency is still measured from send
-- to answer.
--
-- BODIES holds one JSON request body per line; each request takes the next line of
-- its thread, starting at a thread-specific offset, so every kind of request in the
-- file is sent in equal shares.

local bodies = {}
for line in io.lines(os.getenv("BODIES")) do
  if #line > 0 then bodies[#bodies + 1] = line end
end
local threads = {}
local thread_no = 0

function setup(thread)
  thread:set("id", thread_no)
  thread_no = thread_no + 1
  table.insert(threads, thread)
end

function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
  next_body = 1 + (id * 7919) % #bodies
  graphql_errors = 0
  responses = 0
  sample_error = nil
end

local think_ms = tonumber(os.getenv("THINK_MS") or "")
if think_ms then
  function delay() return think_ms end
end

function request()
  local body = bodies[next_body]
  next_body = next_body % #bodies + 1
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  responses = responses + 1
  if status >= 200 and status < 300 and string.find(body, '"errors"', 1, true) then
    graphql_errors = graphql_errors + 1
    if sample_error == nil then sample_error = string.sub(body, 1, 300) end
  end
end

function done(summary, latency, requests)
  local errors = 0
  local sample = nil
  for _, t in ipairs(threads) do
    errors = errors + t:get("graphql_errors")
    sample = sample or t:get("sample_error")
  end
  local secs = summary.duration / 1e6
  local non2xx = summary.errors.status
  local socket = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format(
    "RESULT requests=%d rps=%.0f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f non2xx=%d graphql_errors=%d socket_errors=%d\n",
    summary.requests, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    non2xx, errors, socket))
  if sample then io.write("SAMPLE_ERROR " .. sample .. "\n") end
end
