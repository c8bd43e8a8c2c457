-- Sign-ins of BENCH_LOGIN_USERS accounts login<i>@bench.example (one password, BENCH_PASSWORD),
-- taken in turn, so no account is signed in twice at once; counts 503s and their Retry-After.
dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")
local users = tonumber(os.getenv("BENCH_LOGIN_USERS") or "1000")
local password = os.getenv("BENCH_PASSWORD")
local n = 0
function request()
  n = n + 1
  local i = ((n * 2 + thread_id) % users)
  local body = string.format('{"email":"login%d@bench.example","password":"%s"}', i, password)
  return wrk.format("POST", "/v1/auth/login", nil, body)
end
function response(status, headers, body) count(status, headers) end
