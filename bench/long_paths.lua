-- Requests with 40 KB paths, each one different. Stops after WRK_REQUESTS requests (each
-- thread after its share).
local limit = tonumber(os.getenv("WRK_REQUESTS") or "0") / tonumber(os.getenv("WRK_THREADS") or "2")
local threads = {}
id = 0  -- a global: thread:set gives each thread its own (a local would be 0 in every thread)
local filler = string.rep("a", 40 * 1024)

function setup(thread)
  id = id + 1
  thread:set("id", id)
  table.insert(threads, thread)
end

function init(args)
  sent = 0
end

function request()
  sent = sent + 1
  if limit > 0 and sent > limit then wrk.thread:stop() end
  return wrk.format("GET", string.format("/%d-%d-%s", id, sent, filler))
end
