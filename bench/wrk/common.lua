-- Shared by bench/wrk/*.lua (loaded with dofile): the request from the environment bench/suite.py
-- sets, per-thread status counters, and a machine-readable summary line for the suite.
--   BENCH_METHOD, BENCH_PATH, BENCH_BODY, BENCH_CTYPE, BENCH_AUTH (a whole Authorization value)
wrk.method = os.getenv("BENCH_METHOD") or "GET"
wrk.path = os.getenv("BENCH_PATH") or "/"
wrk.body = os.getenv("BENCH_BODY")
wrk.headers["Content-Type"] = os.getenv("BENCH_CTYPE") or "application/json"
if os.getenv("BENCH_AUTH") then
  wrk.headers["Authorization"] = os.getenv("BENCH_AUTH")
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_id", #threads)
  if bench_setup then bench_setup(thread, #threads) end
end

-- Counted only by scripts that define response() (they call count()).
status_503, retry_after = 0, 0
function count(status, headers)
  if status == 503 then
    status_503 = status_503 + 1
    if headers["Retry-After"] or headers["retry-after"] then retry_after = retry_after + 1 end
  end
end

function done(summary, latency, requests)
  local s503, retry = 0, 0
  for _, t in ipairs(threads) do
    s503 = s503 + (t:get("status_503") or 0)
    retry = retry + (t:get("retry_after") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,"non2xx":%d,' ..
    '"socket_errors":%d,"status_503":%d,"retry_after":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    e.status, e.connect + e.read + e.write + e.timeout, s503, retry))
end
