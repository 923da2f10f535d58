-- Every request a reader not seen before, as one trusted proxy would say it (X-Forwarded-For):
-- the address is a number made of RUN (a different one for each wrk run of the day), the
-- thread and its request count, so that each view of a cached page is counted.
local run = tonumber(os.getenv("RUN") or "0")
id = 0  -- a global: thread:set gives each thread its own

function setup(thread)
  id = id + 1
  thread:set("id", id)
end

function init(args)
  sent = 0
end

function request()
  sent = sent + 1
  local n = ((run * 8 + id) % 256) * 16777216 + sent % 16777216
  local address = string.format("%d.%d.%d.%d", math.floor(n / 16777216), math.floor(n / 65536) % 256,
    math.floor(n / 256) % 256, n % 256)
  return wrk.format("GET", nil, {["X-Forwarded-For"] = address})
end
