-- Unique searches: every request asks for words no one asked for before. Stops after
-- WRK_REQUESTS requests when that is set; prints the answers by status class.
-- Each thread runs in a Lua state of its own: `id` is a global that thread:set gives it (a
-- local would be 0 in every thread), and it stops at its share of WRK_REQUESTS.
local limit = tonumber(os.getenv("WRK_REQUESTS") or "0") / tonumber(os.getenv("WRK_THREADS") or "2")
local threads, counter = {}, 0
id = 0

function setup(thread)
  id = id + 1
  thread:set("id", id)
  table.insert(threads, thread)
end

function init(args)
  sent, ok, limited, busy, other = 0, 0, 0, 0, 0
end

function request()
  sent = sent + 1
  if limit > 0 and sent > limit then wrk.thread:stop() end
  return wrk.format("GET", string.format("/docs.php?q=ord%dx%d+bilde%d", id, sent, sent % 97))
end

function response(status, headers, body)
  if status == 200 then ok = ok + 1
  elseif status == 429 then limited = limited + 1
  elseif status == 503 then busy = busy + 1
  else other = other + 1 end
end

function done(summary, latency, requests)
  local t = {ok = 0, limited = 0, busy = 0, other = 0}
  for _, thread in ipairs(threads) do
    for name, _ in pairs(t) do t[name] = t[name] + thread:get(name) end
  end
  io.write(string.format("%d requests: %d ok, %d limited (429), %d busy (503), %d other\n",
    summary.requests, t.ok, t.limited, t.busy, t.other))
end
