-- Every request is a new reader's "Ja" (another user agent), posted from the site's own page.
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end

local count = 0
-- Each wrk process sends other readers (two may post to two servers sharing a database).
prefix = os.getenv("READER_PREFIX") or "bench"
request = function()
  count = count + 1
  local headers = {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Sec-Fetch-Site"] = "same-origin",
    ["User-Agent"] = prefix .. "-" .. id .. "-" .. count,
  }
  return wrk.format("POST", "/tilbakemelding?doc=what-is-ip-adapter", headers, "helpful=yes")
end
