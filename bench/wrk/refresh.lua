-- Refresh with rotation: each thread starts with its share of the refresh tokens in the file
-- BENCH_TOKENS (one a line, one session each) and sends each token once, queueing the one
-- every answer returns; more tokens than connections, so a connection never waits for one.
dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")
function bench_setup(thread, id)
  local mine, i = {}, 0
  for line in io.lines(os.getenv("BENCH_TOKENS")) do
    i = i + 1
    if i % 2 == id % 2 then table.insert(mine, line) end
  end
  thread:set("initial", table.concat(mine, ","))
end
local queue, last = nil, "none"
function request()
  if queue == nil then
    queue = {}
    for token in string.gmatch(initial, "[^,]+") do table.insert(queue, token) end
  end
  local token = table.remove(queue, 1) or last
  last = token
  return wrk.format("POST", "/v1/auth/refresh", nil, '{"refresh_token":"' .. token .. '"}')
end
function response(status, headers, body)
  count(status, headers)
  local token = string.match(body, '"refresh_token"%s*:%s*"([^"]+)"')
  if status == 200 and token then table.insert(queue, token) end
end
