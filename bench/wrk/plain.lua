-- One fixed request (method, path, body, token from the environment; see common.lua).
dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")
