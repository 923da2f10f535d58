-- Requests with 40 KB paths, each one different. Stops after WRK_REQUESTS requests.
local limit = tonumber(os.getenv("WRK_REQUESTS") or "0")
local threads, id = {}, 0
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
  if limit > 0 and sent * #threads > limit then wrk.thread:stop() end
  return wrk.format("GET", string.format("/%d-%d-%s", id, sent, filler))
end
