-- Alert ingest load for wrk: every request carries `batch` alerts that no request sent before
-- (unique labels per thread and request), so the receiver cannot shortcut by deduplicating.
--
--   wrk -t2 -c8 -d15s --latency -s bench/wrk_ingest.lua URL -- FORMAT PATH BATCH SERVICES RUN
--
-- RUN (a number) keeps alerts of separate runs against the same server apart.
--
-- FORMAT "alertmanager-api": the JSON array Alertmanager's own POST /api/v2/alerts takes.
-- FORMAT "webhook": the version-4 notification Alertmanager sends a webhook receiver.
-- At the end one line starting with WRK_JSON carries the counts and percentiles (microseconds).

local counter = 0
local threads = {}

function setup(thread)
  counter = counter + 1
  thread:set("thread_no", counter)
  table.insert(threads, thread)
end

local format, path, batch, services, run
local sent = 0

function init(args)
  format, path = args[1], args[2]
  batch, services = tonumber(args[3] or "1"), tonumber(args[4] or "20")
  run = tonumber(args[5] or "0")
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

local function alert(n)
  local service = "svc-" .. (n % services)
  local id = run .. "-" .. thread_no .. "-" .. n
  local labels = string.format(
    '{"alertname":"LoadTest","service":"%s","severity":"warning","instance":"host-%s"}',
    service, id)
  local annotations = string.format('{"summary":"load test alert %s on %s"}', id, service)
  if format == "alertmanager-api" then
    return string.format(
      '{"labels":%s,"annotations":%s,"generatorURL":"http://prometheus.example/graph"}',
      labels, annotations)
  end
  return string.format(
    '{"status":"firing","labels":%s,"annotations":%s,"startsAt":"2026-11-27T02:00:00Z",' ..
    '"endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://prometheus.example/graph",' ..
    '"fingerprint":"%04x%04x%08x"}', labels, annotations, run, thread_no, n)
end

function request()
  local parts = {}
  for _ = 1, batch do
    sent = sent + 1
    parts[#parts + 1] = alert(sent)
  end
  local alerts = "[" .. table.concat(parts, ",") .. "]"
  local body = alerts
  if format == "webhook" then
    body = '{"version":"4","groupKey":"{}:{alertname=\\"LoadTest\\"}","truncatedAlerts":0,' ..
      '"status":"firing","receiver":"tocsin","groupLabels":{"alertname":"LoadTest"},' ..
      '"commonLabels":{"alertname":"LoadTest"},"commonAnnotations":{},' ..
      '"externalURL":"http://127.0.0.1:9093","alerts":' .. alerts .. '}'
  end
  return wrk.format("POST", path, nil, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "connect_errors": %d, '
      .. '"read_errors": %d, "write_errors": %d, "status_errors": %d, "timeouts": %d, '
      .. '"p50_us": %d, "p90_us": %d, "p99_us": %d, "p999_us": %d, "max_us": %d, '
      .. '"mean_us": %.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean
  ))
end
