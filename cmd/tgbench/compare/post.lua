-- wrk script for the token endpoint comparison (wrk.sh): every request is a
-- client_credentials grant, POST with the client's credentials in HTTP Basic.
-- It counts answers other than 200 per thread and prints them at the end,
-- with one machine-readable line that wrk.sh reads its figures from.

wrk.method = "POST"
wrk.body = "grant_type=client_credentials"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
-- base64("demo-client:demo-secret"): the demo client all three servers know.
wrk.headers["Authorization"] = "Basic ZGVtby1jbGllbnQ6ZGVtby1zZWNyZXQ="

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

-- Per thread (each has its own Lua state): answers by status, other than 200.
non200 = 0
statuses = {}

function response(status, headers, body)
  if status ~= 200 then
    non200 = non200 + 1
    local key = tostring(status)
    statuses[key] = (statuses[key] or 0) + 1
  end
end

function done(summary, latency, requests)
  local non200_total = 0
  local by_status = {}
  for _, thread in ipairs(threads) do
    non200_total = non200_total + thread:get("non200")
    for status, count in pairs(thread:get("statuses")) do
      by_status[status] = (by_status[status] or 0) + count
    end
  end
  local seconds = summary.duration / 1e6
  local errors = summary.errors
  io.write(string.format("answers other than 200: %d\n", non200_total))
  for status, count in pairs(by_status) do
    io.write(string.format("  status %s: %d\n", status, count))
  end
  -- wrk.sh parses this line; latencies in microseconds.
  io.write(string.format(
    "wrk-summary requests=%d seconds=%.3f rps=%.1f p50_us=%d p99_us=%d non200=%d connect_errors=%d read_errors=%d write_errors=%d timeouts=%d\n",
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50), latency:percentile(99), non200_total,
    errors.connect, errors.read, errors.write, errors.timeout))
end
