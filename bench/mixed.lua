-- Mixed traffic for the load test: 80% cached pages, 10% unknown slugs, 5% hostile slugs,
-- 5% searches. Counts answers by class; `done` prints one JSON line with the totals.
local pages = {"what-is-ip-adapter", "what-is-identitynet", "instantid-intro", "generative-ai-intro",
               "avatarify-intro", "generative-ai-terminology", "omskrevet"}
local hostile = {"..%2F..%2Fetc%2Fpasswd", "%00", "<script>", "....//", "%c0%ae%c0%ae/", "a%0d%0aX:1"}
local words = {"ansikt", "bilde", "modell", "instantid", "lora", "stil"}
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  ok, client_errors, server_errors, other = 0, 0, 0, 0
end

function request()
  local roll = math.random(100)
  local path
  if roll <= 80 then
    path = "/docs.php?doc=" .. pages[math.random(#pages)]
  elseif roll <= 90 then
    path = "/docs.php?doc=finnes-ikke-" .. math.random(1000)
  elseif roll <= 95 then
    path = "/docs.php?doc=" .. hostile[math.random(#hostile)]
  else
    path = "/docs.php?q=" .. words[math.random(#words)]
  end
  return wrk.format("GET", path)
end

function response(status, headers, body)
  if status >= 500 then server_errors = server_errors + 1
  elseif status >= 400 then client_errors = client_errors + 1
  elseif status >= 200 and status < 400 then ok = ok + 1
  else other = other + 1 end
end

function done(summary, latency, requests)
  local totals = {ok = 0, client_errors = 0, server_errors = 0, other = 0}
  for _, thread in ipairs(threads) do
    for name, _ in pairs(totals) do totals[name] = totals[name] + thread:get(name) end
  end
  local e = summary.errors
  io.write(string.format('{"requests": %d, "ok": %d, "client_errors": %d, "server_errors": %d, ' ..
    '"other": %d, "connect": %d, "read": %d, "write": %d, "timeout": %d, "status": %d, "p99_ms": %.2f}\n',
    summary.requests, totals.ok, totals.client_errors, totals.server_errors, totals.other,
    e.connect, e.read, e.write, e.timeout, e.status, latency:percentile(99) / 1000))
end
