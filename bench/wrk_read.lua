-- Tocsin read load for wrk: every request is a random line of a paths file, sent with a bearer
-- token. "{id}" in a line becomes a random incident id in [lo, hi], drawn per request.
--
--   wrk -t2 -c8 -d15s --latency -s bench/wrk_read.lua http://127.0.0.1:8080 -- TOKEN PATHS LO HI
--
-- At the end one line starting with WRK_JSON carries the counts and percentiles (microseconds).

local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("thread_no", counter)
end

local paths = {}
local lo, hi = 1, 1

function init(args)
  local token, file_name = args[1], args[2]
  lo, hi = tonumber(args[3] or "1"), tonumber(args[4] or "1")
  local file = assert(io.open(file_name, "r"))
  for line in file:lines() do
    if #line > 0 then
      paths[#paths + 1] = line
    end
  end
  file:close()
  assert(#paths > 0, "no paths in " .. file_name)
  math.randomseed(os.time() * 1000 + (thread_no or 0))
  wrk.headers["Authorization"] = "Bearer " .. token
  wrk.headers["Accept"] = "application/json"
end

function request()
  local path = paths[math.random(#paths)]
  path = string.gsub(path, "{id}", function()
    return tostring(math.random(lo, hi))
  end)
  return wrk.format("GET", path)
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
