-- Bad passwords for the authors' pages from ADDRESSES addresses (sent as X-Forwarded-For,
-- for a server that trusts one proxy hop); prints the answers by status.
local addresses = tonumber(os.getenv("ADDRESSES") or "100")
local threads = {}
id = 0  -- a global: thread:set gives each thread its own (a local would be 0 in every thread)

function setup(thread)
  id = id + 1
  thread:set("id", id)
  table.insert(threads, thread)
end

function init(args)
  sent, unauthorized, limited, busy, other = 0, 0, 0, 0, 0
end

-- "forfatter:gjett-<n>", base64-encoded ahead of time for a handful of guesses.
local guesses = {
  "Zm9yZmF0dGVyOmdqZXR0LTA=", "Zm9yZmF0dGVyOmdqZXR0LTE=", "Zm9yZmF0dGVyOmdqZXR0LTI=",
  "Zm9yZmF0dGVyOmdqZXR0LTM=", "Zm9yZmF0dGVyOmdqZXR0LTQ=",
}

function request()
  sent = sent + 1
  -- Each thread runs in a Lua state of its own: `threads` is empty here, `id` is set.
  local n = (sent * 2 + id) % addresses
  return wrk.format("GET", "/innsikt", {
    ["Authorization"] = "Basic " .. guesses[sent % #guesses + 1],
    ["X-Forwarded-For"] = string.format("198.18.%d.%d", math.floor(n / 250), n % 250 + 1),
  })
end

function response(status, headers, body)
  if status == 401 then unauthorized = unauthorized + 1
  elseif status == 429 then limited = limited + 1
  elseif status == 503 then busy = busy + 1
  else other = other + 1 end
end

function done(summary, latency, requests)
  local t = {unauthorized = 0, limited = 0, busy = 0, other = 0}
  for _, thread in ipairs(threads) do
    for name, _ in pairs(t) do t[name] = t[name] + thread:get(name) end
  end
  io.write(string.format("%d requests: %d unauthorized (401), %d limited (429), %d busy (503), %d other\n",
    summary.requests, t.unauthorized, t.limited, t.busy, t.other))
end
