-- Every request names another unknown page: 404s whose suggestions nothing has remembered.
request = function()
  return wrk.format("GET", "/docs.php?doc=finnes-ikke-" .. math.random(0, 100000000))
end
