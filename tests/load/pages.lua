-- wrk script: each wrk thread owns one launch session (one connection each). It loads the
-- chart page; when the page asks for its own write-back update (the sync form the page's
-- script posts after loading) it sends that POST, and every third page it also sends the
-- write-back button's POST. Pages must be 200 and show that session's own patient (no
-- mix-up); POSTs must answer 303 to that session's chart (or, when the EHR failed beyond
-- the retry budget, the same clear 502 page a GET gets). Several sessions share a patient,
-- so identical writes race: the test then checks the EHR holds each resource once.
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
  chart = "/chart?h=" .. handle
  marker = 'data-patient="Patient/' .. patient .. '"'
  ok, unavailable, failed, mixed, posts = 0, 0, 0, 0, 0
  failures = ""
  pages, pending, token, sent = 0, nil, nil, "GET"
end

local function form_post(path)
  local body = "h=" .. handle .. "&csrf_token=" .. token
  local headers = {["Content-Type"] = "application/x-www-form-urlencoded"}
  return wrk.format("POST", path, headers, body)
end

function request()
  if pending ~= nil and token ~= nil then
    local path = pending
    pending, sent = nil, "POST"
    return form_post(path)
  end
  sent = "GET"
  return wrk.format("GET", chart)
end

function response(status, headers, body)
  if sent == "POST" then
    posts = posts + 1
    if status == 303 and headers["Location"] == chart then
      ok = ok + 1
    elseif status == 502 and string.find(body, 'data-testid="error-message"', 1, true) then
      unavailable = unavailable + 1   -- the POST's own read of the EHR failed: a clear page
    else
      failed = failed + 1
      failures = failures .. " POST:" .. status
    end
    return
  end
  if status == 200 then
    if not string.find(body, marker, 1, true) then mixed = mixed + 1 return end
    ok = ok + 1
    pages = pages + 1
    token = string.match(body, 'name="csrf_token" value="(%x+)"')
    if string.find(body, 'data-auto-submit="true"', 1, true) then
      pending = "/writeback/sync"
    elseif pages % 3 == 0 and string.find(body, 'data-testid="writeback-form"', 1, true) then
      pending = "/writeback"
    end
  elseif status == 502 and string.find(body, 'data-testid="error-message"', 1, true) then
    unavailable = unavailable + 1   -- the EHR failed beyond the retry budget: a clear page
  else
    failed = failed + 1
    failures = failures .. " GET:" .. status
  end
end

function done(summary, latency, requests)
  local totals = {ok = 0, unavailable = 0, failed = 0, mixed = 0, posts = 0}
  for _, thread in ipairs(threads) do
    for key, _ in pairs(totals) do totals[key] = totals[key] + thread:get(key) end
    local failures = thread:get("failures")
    if failures ~= "" then io.write("FAILED" .. failures .. "\n") end
  end
  local errors = summary.errors
  io.write(string.format(
    "RESULT requests=%d ok=%d unavailable=%d failed=%d mixed=%d posts=%d socket_errors=%d p50_ms=%.1f p95_ms=%.1f\n",
    summary.requests, totals.ok, totals.unavailable, totals.failed, totals.mixed, totals.posts,
    errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000))
end
