-- Every request names a random page of the 10,000-page synthetic corpus (side-0 .. side-9993).
request = function()
  return wrk.format("GET", "/docs.php?doc=side-" .. math.random(0, 9993))
end
