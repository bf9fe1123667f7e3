-- wrk script: each wrk thread owns one launch session (one connection each) and loads its
-- chart page; every answer must be 200 and show that session's own patient (no mix-up).
-- SESSIONS is prepended by the test: { {handle = "...", patient = "..."}, ... }
local threads = {}
local next_session = 0

function setup(thread)
  next_session = next_session + 1
  local session = SESSIONS[next_session]
  thread:set("handle", session.handle)
  thread:set("patient", session.patient)
  table.insert(threads, thread)
end

function init(args)
  path = "/chart?h=" .. handle
  marker = 'data-patient="Patient/' .. patient .. '"'
  ok, unavailable, failed, mixed = 0, 0, 0, 0
end

function request()
  return wrk.format("GET", path)
end

function response(status, headers, body)
  if status == 200 then
    if string.find(body, marker, 1, true) then ok = ok + 1 else mixed = mixed + 1 end
  elseif status == 502 and string.find(body, 'data-testid="error-message"', 1, true) then
    unavailable = unavailable + 1   -- the EHR failed beyond the retry budget: a clear page
  else
    failed = failed + 1
  end
end

function done(summary, latency, requests)
  local totals = {ok = 0, unavailable = 0, failed = 0, mixed = 0}
  for _, thread in ipairs(threads) do
    for key, _ in pairs(totals) do totals[key] = totals[key] + thread:get(key) end
  end
  local errors = summary.errors
  io.write(string.format(
    "RESULT requests=%d ok=%d unavailable=%d failed=%d mixed=%d socket_errors=%d p50_ms=%.1f p95_ms=%.1f\n",
    summary.requests, totals.ok, totals.unavailable, totals.failed, totals.mixed,
    errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000))
end
