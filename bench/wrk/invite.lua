-- A 100-address invitation with 100 addresses no one has used (BENCH_PATH: the customer's
-- invitations; BENCH_TAG: this run's own, so re-runs on one database never collide).
dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")
local tag = os.getenv("BENCH_TAG") or "x"
local n = 0
function request()
  n = n + 1
  local emails = {}
  for i = 1, 100 do
    emails[i] = string.format('"inv-%s-%d-%d-%d@invite.bench.example"', tag, thread_id, n, i)
  end
  local body = '{"emails":[' .. table.concat(emails, ",") .. '],"role":"user"}'
  return wrk.format("POST", wrk.path, nil, body)
end
