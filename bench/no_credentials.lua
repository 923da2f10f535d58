-- The authors' page without credentials from many addresses: answered 401 at once, with no
-- password hashed. The control for bad_logins.lua: as many requests, none of them checked.
local addresses = tonumber(os.getenv("ADDRESSES") or "100")
local sent = 0
id = 0  -- a global: thread:set gives each thread its own (a local would be 0 in every thread)

function setup(thread)
  id = id + 1
  thread:set("id", id)
end

function request()
  sent = sent + 1
  local n = (sent * 2 + id) % addresses
  return wrk.format("GET", "/innsikt", {
    ["X-Forwarded-For"] = string.format("198.19.%d.%d", math.floor(n / 250), n % 250 + 1),
  })
end
