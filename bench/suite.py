#!/usr/bin/env python3
"""The driver of bench/run (run that, not this): seeds the data by SQL, drives wrk and pgbench,
measures the ceilings in the same run, interleaved with the endpoints, samples the server's
memory, and prints one table (also written to bench/results/<date>-<host>.md).

Ceilings:
- `pgbench -S` (prepared, c=8) on its own pgbench-initialised database on the same server;
- the replay of the exact SQL an endpoint sends: log_statement=all is switched on for one
  request of the endpoint, its statements and their `parameters:` are parsed out of the server
  log into a pgbench script with the values inlined (ids and token hashes the request made are
  replaced by fresh ones per transaction, so writes do not collide) and run with
  `pgbench -n -M simple -c 8`;
- Argon2id verifications per second with the service's parameters on all cores
  (examples/argon2_rate.rs) for the sign-in.
Only talks to the loopback URL and the unix socket it is given.
"""
import argparse
import base64
import datetime
import http.client
import json
import os
import re
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid

PASSWORD = "bench passphrase kettle harbour 42"
MAIN_USERS = 100_000  # users of the one customer the deep page is read from (1 M users in all)
LOGIN_USERS = 1_000
WRK_DIR = os.environ.get("BENCH_WRK_DIR", os.path.join(os.path.dirname(__file__), "wrk"))
STATEMENT_TARGETS = {"me": 2, "authz": 2, "users_p1": 3, "users_deep": 3, "addresses": 2, "login": 7,
                     "refresh": 6, "create_user": 7, "invite": 30}


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class Api:
    def __init__(self, url):
        parsed = urllib.parse.urlparse(url)
        self.host, self.port = parsed.hostname, parsed.port

    def request(self, method, path, token=None, body=None, headers=None, raw=None, timeout=600):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        all_headers = {"content-type": "application/json"}
        if token:
            all_headers["authorization"] = f"Bearer {token}"
        all_headers.update(headers or {})
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        started = time.perf_counter()
        conn.request(method, path, body=data, headers=all_headers)
        response = conn.getresponse()
        payload = response.read()
        elapsed = time.perf_counter() - started
        conn.close()
        return response.status, dict(response.getheaders()), payload, elapsed

    def call(self, method, path, token=None, body=None, expect=(200, 201), **kw):
        status, headers, payload, _ = self.request(method, path, token, body, **kw)
        if status not in expect:
            raise SystemExit(f"{method} {path}: {status} {payload[:400]!r}")
        return json.loads(payload) if payload else None

    def login(self, email, password=PASSWORD):
        return self.call("POST", "/v1/auth/login", body={"email": email, "password": password})


class Memory(threading.Thread):
    """Samples VmRSS (and the thread count) of the server every 100 ms, by phase."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.phase, self.stop = pid, "start", False
        self.peaks, self.threads = {}, 0

    def status(self):
        fields = {}
        with open(f"/proc/{self.pid}/status") as status:
            for line in status:
                key, _, value = line.partition(":")
                fields[key] = value.split()
        return fields

    def rss(self):
        return int(self.status()["VmRSS"][0]) / 1024

    def hwm(self):
        return int(self.status()["VmHWM"][0]) / 1024

    def run(self):
        while not self.stop:
            try:
                fields = self.status()
            except OSError:
                return
            rss = int(fields["VmRSS"][0]) / 1024
            self.peaks[self.phase] = max(self.peaks.get(self.phase, 0), rss)
            self.threads = max(self.threads, int(fields["Threads"][0]))
            time.sleep(0.1)


class Suite:
    def __init__(self, args):
        self.args = args
        self.api = Api(args.url)
        self.psql = shlex.split(args.psql)
        self.mem = Memory(args.pid)
        self.rows = []  # the table
        self.notes = []
        self.wall = {}
        self.tag = uuid.uuid4().hex[:8]
        self.main_users = min(MAIN_USERS, args.users // 10)

    # -- PostgreSQL ------------------------------------------------------------------------
    def sql(self, query, db="dockgate"):
        env = dict(os.environ, PGAPPNAME="bench-ctl")
        out = subprocess.run(self.psql + ["-d", db, "-At", "-v", "ON_ERROR_STOP=1", "-c", query],
                             capture_output=True, text=True, env=env)
        if out.returncode != 0:
            raise SystemExit(f"psql: {out.stderr.strip()}\n{query[:500]}")
        return out.stdout.strip()

    def pgbench(self, args, db):
        env = dict(os.environ, PGAPPNAME="pgbench")
        conn = ["-h", self.psql[self.psql.index("-h") + 1], "-p", self.psql[self.psql.index("-p") + 1],
                "-U", "postgres"]
        out = subprocess.run([os.path.join(self.args.pgbin, "pgbench")] + conn + args + [db],
                             capture_output=True, text=True, env=env)
        tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", out.stdout)
        if out.returncode != 0 or not tps:
            return None, (out.stderr.strip().splitlines() or ["no output"])[-1][:200]
        latency = re.search(r"latency average = ([\d.]+) ms", out.stdout)
        return float(tps.group(1)), (float(latency.group(1)) if latency else None)

    def clone_sql(self, table, template_where, overrides, source_extra=""):
        """INSERT INTO table SELECT <the template row with overrides> FROM table t <source_extra>."""
        columns = self.sql(f"SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM "
                           f"information_schema.columns WHERE table_name = '{table}' AND table_schema = 'public'")
        names = columns.split(",")
        exprs = [overrides.get(name, f"t.{name}") for name in names]
        return (f"INSERT INTO {table} ({', '.join(names)}) SELECT {', '.join(exprs)} "
                f"FROM {table} t {source_extra} WHERE {template_where}")

    # -- wrk -------------------------------------------------------------------------------
    def wrk(self, script, env, connections=8, duration=None):
        duration = duration or self.args.duration
        full_env = dict(os.environ, BENCH_WRK_DIR=WRK_DIR, BENCH_PASSWORD=PASSWORD, BENCH_TAG=self.tag, **env)
        out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--timeout", "30s",
                              "-s", os.path.join(WRK_DIR, script), self.args.url],
                             capture_output=True, text=True, env=full_env)
        line = next((l for l in out.stdout.splitlines() if l.startswith("BENCH ")), None)
        if line is None:
            raise SystemExit(f"wrk {script}: {out.stdout}\n{out.stderr}")
        result = json.loads(line[6:])
        result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
        return result

    # -- capture and replay ---------------------------------------------------------------
    def log_position(self):
        return os.path.getsize(self.args.pg_log)

    def capture(self, name, make_request):
        """Runs make_request() (returns (status, headers)) with log_statement=all; returns the
        statement count of Server-Timing and the pgbench script of what dockgate sent."""
        self.sql("ALTER SYSTEM SET log_statement = 'all'")
        self.sql("SELECT pg_reload_conf()")
        time.sleep(0.5)
        start = self.log_position()
        before = time.time()
        status, headers = make_request()
        after = time.time()
        time.sleep(0.3)
        self.sql("ALTER SYSTEM RESET log_statement")
        self.sql("SELECT pg_reload_conf()")
        end = self.log_position()
        timing = headers.get("Server-Timing") or headers.get("server-timing") or ""
        counted = re.search(r'desc="(\d+) statements?"', timing)
        counted = int(counted.group(1)) if counted else None
        with open(self.args.pg_log, "rb") as f:
            f.seek(start)
            text = f.read(end - start).decode("utf-8", "replace")
        statements = parse_log(text)
        path = os.path.join(self.args.work, f"replay-{name}.sql")
        script = replay_script(statements, before - 2, after + 2, self.tag)
        with open(path, "w") as f:
            f.write(script)
        if counted is not None and counted != len(statements):
            self.notes.append(f"{name}: Server-Timing says {counted} statements, the log shows {len(statements)}")
        return status, counted, path

    def replay(self, path):
        if path is None:
            return None, "no capture"
        check, detail = self.pgbench(["-n", "-f", path, "-t", "1", "-c", "1", "-M", "simple"], "dockgate")
        if check is None:
            return None, f"replay failed: {detail}"
        tps, _ = self.pgbench(["-n", "-f", path, "-c", "8", "-j", "2", "-T", str(self.args.duration),
                               "-M", "simple"], "dockgate")
        return tps, None

    # -- the run ---------------------------------------------------------------------------
    def setup(self):
        api = self.api
        log("setup through the API")
        admin = api.login(self.args.admin_email, self.args.admin_password)["access_token"]
        self.admin = admin
        customer = api.call("POST", "/v1/customers", admin, {"name": "Bench main", "code": f"BENCH-{self.tag}"})
        cid = self.cid = customer["id"]
        group = api.call("POST", f"/v1/customers/{cid}/groups", admin, {"name": "Depot North"})
        gid = self.gid = group["id"]
        api.call("POST", f"/v1/customers/{cid}/warehouse-addresses", admin,
                 {"label": "Main", "line1": "Kai 1", "city": "Hamburg", "country": "DE", "is_default": True})
        api.call("POST", f"/v1/customers/{cid}/warehouse-addresses", admin,
                 {"label": "North 0", "line1": "Kai 2", "city": "Hamburg", "country": "DE", "group_id": gid})
        api.call("POST", f"/v1/customers/{cid}/users", admin,
                 {"name": "Grouped user", "email": f"grouped-{self.tag}@bench.example", "password": PASSWORD,
                  "role": "user", "group_ids": [gid], "permissions": ["orders.view"]})
        api.call("POST", f"/v1/customers/{cid}/users", admin,
                 {"name": "Login 0", "email": "login0@bench.example", "password": PASSWORD, "role": "user"})
        self.template_user = api.call("POST", f"/v1/customers/{cid}/users", admin, {"name": "Person 0"})["id"]
        client = api.call("POST", f"/v1/customers/{cid}/api-clients", admin, {"name": "bench", "scopes": ["users.manage"]})
        self.basic = base64.b64encode(f"{client['client_id']}:{client['client_secret']}".encode()).decode()
        self.grouped = api.login(f"grouped-{self.tag}@bench.example")["access_token"]

    def seed_users(self, count, label):
        """`count` users without login in the main customer, by one INSERT."""
        self.sql(self.clone_sql("users", f"t.id = '{self.template_user}'", {
            "id": "gen_random_uuid()", "name": f"'Person {label} ' || lpad(i::text, 7, '0')",
        }, f"CROSS JOIN generate_series(1, {count}) i"))

    def seed_million(self):
        started = time.time()
        cid, gid = self.cid, self.gid
        total_now = int(self.sql("SELECT count(*) FROM users"))
        log(f"seeding {self.args.customers} customers and {self.args.users:,} users by SQL")
        self.sql(self.clone_sql("customers", f"t.id = '{cid}'", {
            "id": "gen_random_uuid()", "name": "'Bench customer ' || i", "code": f"'BC-{self.tag}-' || i",
        }, f"CROSS JOIN generate_series(1, {self.args.customers - 1}) i"))
        # the login users (one password hash, made by the service: its parameters)
        self.sql(self.clone_sql("users", "t.email = 'login0@bench.example'", {
            "id": "gen_random_uuid()", "name": "'Login ' || i", "email": "'login' || i || '@bench.example'",
        }, f"CROSS JOIN generate_series(1, {LOGIN_USERS - 1}) i"))
        main_more = max(0, self.main_users - int(self.sql(f"SELECT count(*) FROM users WHERE customer_id = '{cid}'")))
        self.seed_users(main_more, "M")
        rest = self.args.users - total_now - (LOGIN_USERS - 1) - main_more
        per_customer = max(1, rest // (self.args.customers - 1))
        self.sql(self.clone_sql("users", f"t.id = '{self.template_user}'", {
            "id": "gen_random_uuid()", "customer_id": "c.id", "customer_ids": "ARRAY[c.id]",
            "name": "'Person ' || lpad(i::text, 7, '0')",
        }, f"CROSS JOIN (SELECT id FROM customers WHERE code LIKE 'BC-{self.tag}-%') c "
           f"CROSS JOIN generate_series(1, {per_customer}) i"))
        short = self.args.users - int(self.sql("SELECT count(*) FROM users"))
        if short > 0:  # what the division left over, in the main customer
            self.seed_users(short, "R")
        # 50 groups, 200 addresses (every 10th in the group-limited user's group), 10 % of the
        # main customer's users in some group
        self.sql(self.clone_sql("groups", f"t.id = '{gid}'", {
            "id": "gen_random_uuid()", "name": "'Group ' || i"}, "CROSS JOIN generate_series(1, 49) i"))
        self.sql(self.clone_sql("warehouse_addresses", f"t.customer_id = '{cid}' AND t.group_id IS NOT NULL", {
            "id": "gen_random_uuid()", "label": "'Depot ' || i", "is_default": "false",
            "group_id": f"CASE WHEN i % 10 = 0 THEN '{gid}'::uuid ELSE (SELECT id FROM groups g WHERE "
                        f"g.customer_id = '{cid}' AND g.name = 'Group ' || (i % 49 + 1)) END",
        }, "CROSS JOIN generate_series(1, 199) i"))
        self.sql(f"INSERT INTO group_members (customer_id, group_id, user_id, created_at) "
                 f"SELECT '{cid}', (array_agg(g.id))[1 + (abs(hashtext(u.id::text)) % 50)], u.id, now() "
                 f"FROM users u CROSS JOIN groups g WHERE u.customer_id = '{cid}' AND g.customer_id = '{cid}' "
                 f"AND u.login_enabled = false AND abs(hashtext(u.id::text)) % 10 = 0 GROUP BY u.id "
                 f"ON CONFLICT DO NOTHING")
        self.sql("VACUUM ANALYZE")
        users = self.sql("SELECT count(*) FROM users")
        self.wall["seed"] = time.time() - started
        log(f"seeded: {users} users in {self.wall['seed']:.0f} s")

    def deep_cursor(self, token):
        """The cursor of the last page of 100 of the main customer, by following next_cursor."""
        cursor, previous = None, None
        while True:
            path = f"/v1/customers/{self.cid}/users?limit=200" + (f"&cursor={urllib.parse.quote(cursor)}" if cursor else "")
            page = self.api.call("GET", path, token)
            if not page.get("next_cursor"):
                break
            previous, cursor = cursor, page["next_cursor"]
        return previous or cursor

    def endpoint(self, name, label, script, env, ceiling_what, capture=None, stage=""):
        """wrk on the endpoint, then (interleaved) its replay."""
        self.mem.phase = name
        log(f"wrk {label}")
        result = self.wrk(script, env)
        # what wrk left in flight (up to its slowest request) finishes before the capture, whose
        # log window must hold only the one request's statements
        time.sleep(min(30, result["max_us"] / 1e6 + 1))
        status, counted, path = capture() if capture else (None, None, None)
        row = {"name": name, "label": label, "rps": result["rps"], "p50": result["p50_us"] / 1000,
               "p99": result["p99_us"] / 1000, "non2xx": result["non2xx"] + result["socket_errors"],
               "statements": counted, "stage": stage}
        if ceiling_what == "replay":
            self.mem.phase = "pgbench"
            log(f"replay of {label}")
            tps, problem = self.replay(path)
            row.update(ceiling_what=f"replay of its SQL ({status})", ceiling=tps, problem=problem)
        self.rows.append(row)
        return row

    def sample(self, method, path, token=None, body=None, headers=None, raw=None):
        def make():
            status, hdrs, _, _ = self.api.request(method, path, token, body, headers=headers, raw=raw)
            return status, hdrs
        return make

    def run(self):
        args = self.args
        self.mem.start()
        time.sleep(1)
        self.idle = self.mem.rss()
        self.setup()
        cid, gid, admin, grouped = self.cid, self.gid, self.admin, self.grouped
        bearer = lambda t: {"BENCH_AUTH": f"Bearer {t}"}

        # pgbench's own database for -S
        log("pgbench -i (scale 10)")
        subprocess.run([os.path.join(args.pgbin, "pgbench"), "-i", "-q", "-s", "10", "-h",
                        self.psql[self.psql.index("-h") + 1], "-p", self.psql[self.psql.index("-p") + 1],
                        "-U", "postgres", "pgbench"], check=True, capture_output=True)
        self.mem.phase = "pgbench"
        select_only = [self.pgbench(["-S", "-M", "prepared", "-c", "8", "-j", "2", "-T", str(args.duration)], "pgbench")[0]]

        # the 1 k stage: the users pages with 1,000 users in the customer
        self.seed_users(1000, "K")
        self.sql("VACUUM ANALYZE users")
        users_path = f"/v1/customers/{cid}/users?limit=100"
        deep = self.deep_cursor(admin)
        small = {
            "users_p1": self.wrk("plain.lua", {"BENCH_PATH": users_path, **bearer(admin)}),
            "users_deep": self.wrk("plain.lua", {"BENCH_PATH": f"{users_path}&cursor={urllib.parse.quote(deep)}", **bearer(admin)}),
        }

        self.seed_million()
        deep = self.deep_cursor(admin)
        deep_path = f"{users_path}&cursor={urllib.parse.quote(deep)}"
        self.idle_after_seed = self.mem.rss()

        me = self.endpoint("me", "GET /v1/me", "plain.lua", {"BENCH_PATH": "/v1/me", **bearer(grouped)}, "replay",
                           lambda: self.capture("me", self.sample("GET", "/v1/me", grouped)))
        self.endpoint("users_p1", "users page 1 (limit 100)", "plain.lua", {"BENCH_PATH": users_path, **bearer(admin)},
                      "replay", lambda: self.capture("users_p1", self.sample("GET", users_path, admin)))
        self.endpoint("users_deep", f"users deep page (row ~{self.main_users:,})", "plain.lua", {"BENCH_PATH": deep_path, **bearer(admin)},
                      "replay", lambda: self.capture("users_deep", self.sample("GET", deep_path, admin)))
        addresses = f"/v1/customers/{cid}/warehouse-addresses?limit=100"
        self.endpoint("addresses", "addresses, group-limited user", "plain.lua", {"BENCH_PATH": addresses, **bearer(grouped)},
                      "replay", lambda: self.capture("addresses", self.sample("GET", addresses, grouped)))
        check = {"customer_id": cid, "group_id": gid, "permission": "orders.view"}
        self.endpoint("authz", "POST /v1/authz/check", "plain.lua",
                      {"BENCH_METHOD": "POST", "BENCH_PATH": "/v1/authz/check", "BENCH_BODY": json.dumps(check), **bearer(grouped)},
                      "replay", lambda: self.capture("authz", self.sample("POST", "/v1/authz/check", grouped, check)))
        self.mem.phase = "pgbench"
        select_only.append(self.pgbench(["-S", "-M", "prepared", "-c", "8", "-j", "2", "-T", str(args.duration)], "pgbench")[0])
        self.select_only = statistics.mean([t for t in select_only if t])
        me.update(ceiling2=self.select_only)

        # sign-in: the Argon2 ceiling, then login at c=8, c=32 and beyond the hashing limit
        self.mem.phase = "argon2"
        log("Argon2id ceiling")
        out = subprocess.run([args.argon2, str(min(args.duration, 5))], capture_output=True, text=True, check=True)
        self.argon2 = float(re.search(r"per_second=([\d.]+)", out.stdout).group(1))
        self.argon2_line = out.stdout.strip()
        login_env = {"BENCH_LOGIN_USERS": str(LOGIN_USERS)}
        login = self.endpoint("login", "POST /v1/auth/login", "login.lua", login_env, None,
                              lambda: self.capture("login", self.sample("POST", "/v1/auth/login", body={
                                  "email": "login1@bench.example", "password": PASSWORD})))
        login.update(ceiling_what="Argon2id verifications/s, all cores", ceiling=self.argon2)
        self.mem.phase = "login_c32"
        log("login, 32 connections")
        self.login32 = self.wrk("login.lua", login_env, connections=32)
        self.mem.phase = "login_c128"
        log("login, 128 connections (beyond the hashing pool's queue)")
        self.login128 = self.wrk("login.lua", login_env, connections=128, duration=5)

        # refresh: one session per token, more tokens than connections
        tokens = [self.api.login(f"login{i}@bench.example")["refresh_token"] for i in range(100, 124)]
        capture_token = self.api.login("login99@bench.example")["refresh_token"]
        tokens_file = os.path.join(args.work, "refresh-tokens")
        with open(tokens_file, "w") as f:
            f.write("\n".join(tokens) + "\n")
        self.endpoint("refresh", "POST /v1/auth/refresh (rotating)", "refresh.lua", {"BENCH_TOKENS": tokens_file}, "replay",
                      lambda: self.capture("refresh", self.sample("POST", "/v1/auth/refresh", body={"refresh_token": capture_token})))

        create = {"name": "Bench person"}
        self.endpoint("create_user", "create user (no login)", "plain.lua",
                      {"BENCH_METHOD": "POST", "BENCH_PATH": f"/v1/customers/{cid}/users", "BENCH_BODY": json.dumps(create), **bearer(admin)},
                      "replay", lambda: self.capture("create_user", self.sample("POST", f"/v1/customers/{cid}/users", admin, create)))
        invite = {"emails": [f"cap-CAPTAG-{i}@invite.bench.example" for i in range(100)], "role": "user"}
        self.endpoint("invite", "100-address invitation", "invite.lua",
                      {"BENCH_PATH": f"/v1/customers/{cid}/invitations", **bearer(admin)},
                      "replay", lambda: self.capture("invite", self.sample("POST", f"/v1/customers/{cid}/invitations", admin, invite)))
        form = {"BENCH_METHOD": "POST", "BENCH_PATH": "/v1/oauth/token", "BENCH_BODY": "grant_type=client_credentials",
                "BENCH_CTYPE": "application/x-www-form-urlencoded", "BENCH_AUTH": f"Basic {self.basic}"}
        self.endpoint("token", "client-credentials token", "plain.lua", form, "replay",
                      lambda: self.capture("token", self.sample("POST", "/v1/oauth/token", raw=b"grant_type=client_credentials", headers={
                          "authorization": f"Basic {self.basic}", "content-type": "application/x-www-form-urlencoded"})))
        self.imports()

        self.mem.phase = "after"
        log("letting the server settle for 10 s")
        time.sleep(10)
        self.after = self.mem.rss()
        self.peak = max(self.mem.hwm(), max(self.mem.peaks.values()))
        self.small = small
        self.mem.stop = True
        # How much of what stays resident is freed heap glibc has not given back: a diagnostic
        # (gdb calls malloc_trim(0) in the server once, at the very end), not a fix.
        self.trimmed = None
        if shutil.which("gdb") and os.environ.get("BENCH_TRIM_PROBE"):
            probe = subprocess.run(["gdb", "-p", str(args.pid), "-batch", "-ex", "call (int) malloc_trim(0)"],
                                   capture_output=True, text=True)
            if probe.returncode == 0:
                time.sleep(0.5)
                self.trimmed = self.mem.rss()

    def imports(self):
        self.mem.phase = "import"
        self.import_runs = []
        rows, runs = int(os.environ.get("BENCH_IMPORT_ROWS", "10000")), 3
        self.import_rows = rows
        for run in range(runs):
            code = f"imp{self.tag}{run}"
            customer = self.api.call("POST", "/v1/customers", self.admin, {"name": f"Import {run}", "code": code})
            out = ["\ufeffname,email,external_id,permissions,send_mail\r\n"]
            out += [f"Person {i},person{i}@{code}.example,{code}-{i},orders.view;tracking.view,true\r\n" for i in range(rows)]
            log(f"import {run + 1} of {runs} ({rows:,} rows)")
            status, headers, payload, elapsed = self.api.request(
                "POST", f"/v1/customers/{customer['id']}/users/import?mode=create", self.admin,
                raw="".join(out).encode(), headers={"content-type": "text/csv"})
            if status != 200:
                raise SystemExit(f"import: {status} {payload[:300]!r}")
            timing = re.search(r'desc="(\d+) statements?"', headers.get("Server-Timing", headers.get("server-timing", "")))
            self.import_runs.append((elapsed, int(timing.group(1)) if timing else None, self.mem.rss()))

    # -- the table -------------------------------------------------------------------------
    def table(self):
        def fmt(x, digits=0):
            return "—" if x is None else f"{x:,.{digits}f}"

        lines = ["| endpoint | req/s | p50 ms | p99 ms | ceiling (what) | ceiling/s | ratio | target | met | statements (target) |",
                 "|---|---:|---:|---:|---|---:|---:|---|---|---|"]
        for row in self.rows:
            targets = {"me": 0.8, "users_p1": 0.8, "users_deep": 0.8, "addresses": 0.8, "refresh": 0.8,
                       "create_user": 0.8, "login": 0.9}
            statements = fmt(row["statements"])
            if row["name"] in STATEMENT_TARGETS and row["statements"] is not None:
                limit = STATEMENT_TARGETS[row["name"]]
                statements += f" (≤ {limit}: {'met' if row['statements'] <= limit else 'not met'})"
            ceilings = [(row.get("ceiling_what"), row.get("ceiling"), targets.get(row["name"]), row.get("problem"))]
            if row["name"] == "me":
                ceilings.append(("`pgbench -S` prepared", row.get("ceiling2"), 0.2, None))
            for i, (what, ceiling, target, problem) in enumerate(ceilings):
                ratio = row["rps"] / ceiling if ceiling else None
                met = "—" if target is None or ratio is None else ("met" if ratio >= target else "not met")
                what = what or "—"
                if problem:
                    what += f" ({problem})"
                errors = f" ({row['non2xx']} non-2xx)" if row["non2xx"] and i == 0 else ""
                lines.append(f"| {row['label'] if i == 0 else ''}{errors} | {fmt(row['rps']) if i == 0 else ''} | "
                             f"{fmt(row['p50'], 2) if i == 0 else ''} | {fmt(row['p99'], 2) if i == 0 else ''} | {what} | "
                             f"{fmt(ceiling)} | {fmt(ratio, 2)} | {'≥ ' + str(target) if target else '—'} | {met} | "
                             f"{statements if i == 0 else ''} |")
        for elapsed, statements, rss in self.import_runs:
            lines.append(f"| {self.import_rows:,}-row CSV import (one request) | {self.import_rows / elapsed:,.0f} rows/s | {elapsed * 1000:,.0f} | | — | — | — | — | — | {fmt(statements)} |")
        out = ["", "| users page, 1 k vs 1 M users | p50 1 k | p50 1 M | p99 1 k | p99 1 M | p99 1 M ÷ 1 k | target | met |",
               "|---|---:|---:|---:|---:|---:|---|---|"]
        by_name = {row["name"]: row for row in self.rows}
        for name, label in (("users_p1", "page 1"), ("users_deep", "deep page")):
            k, m = self.small[name], by_name[name]
            ratio = m["p99"] / (k["p99_us"] / 1000)
            out.append(f"| {label} | {k['p50_us'] / 1000:.2f} | {m['p50']:.2f} | {k['p99_us'] / 1000:.2f} | {m['p99']:.2f} | "
                       f"{ratio:.2f} | ≤ 1.3 | {'met' if ratio <= 1.3 else 'not met'} |")
        l32, l128 = self.login32, self.login128
        bounded = l128["status_503"] > 0 and l128["retry_after"] == l128["status_503"]
        out += ["", "| sign-in under load | req/s | p50 ms | p99 ms | 503 | with Retry-After |", "|---|---:|---:|---:|---:|---:|",
                f"| 32 connections, {self.args.duration} s | {l32['rps']:,.0f} | {l32['p50_us'] / 1000:.1f} | {l32['p99_us'] / 1000:.1f} | {l32['status_503']} | {l32['retry_after']} |",
                f"| 128 connections, 5 s | {l128['rps']:,.0f} | {l128['p50_us'] / 1000:.1f} | {l128['p99_us'] / 1000:.1f} | {l128['status_503']} | {l128['retry_after']} |",
                "", f"Beyond the hashing limit the service {'answered 503 with Retry-After (met)' if bounded else 'did not answer every refused sign-in with 503 + Retry-After'}; "
                f"Argon2id ceiling: `{self.argon2_line}`."]
        peak_ok = self.peak <= 300
        after_ok = self.after - self.idle <= 100
        out += ["", "| server memory | MiB | target | met |", "|---|---:|---|---|",
                f"| RSS idle (after start) | {self.idle:.0f} | | |",
                f"| RSS peak (VmHWM and 100 ms samples) | {self.peak:.0f} | ≤ 300 | {'met' if peak_ok else 'not met'} |",
                f"| RSS after the load (+10 s) | {self.after:.0f} | ≤ idle + 100 | {'met' if after_ok else 'not met'} |",
                f"| RSS after that, once `malloc_trim(0)` ran in the server (gdb probe, diagnostic) | {fmt(self.trimmed)} | | |",
                "", "Peak RSS by phase (MiB): " + ", ".join(f"{k} {v:.0f}" for k, v in self.mem.peaks.items()) +
                f"; most threads seen: {self.mem.threads}."]
        return "\n".join(lines + out)

    def machine(self):
        model = "unknown"
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            total = int(f.readline().split()[1]) / 1024 / 1024
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                cwd=os.path.dirname(os.path.abspath(__file__))).stdout.strip()
        return (f"Machine: {socket.gethostname()}, {os.cpu_count()} cores ({model}), {total:.1f} GiB RAM; "
                f"load average at the start {self.load_start}; dockgate {commit}; "
                f"server environment: {self.args.server_env or '(default)'}; wrk -t2 -c8 -d{self.args.duration}s; "
                f"{self.args.customers:,} customers, {self.args.users:,} users ({self.main_users:,} in the deep page's customer).")


def parse_log(text):
    """The statements dockgate sent (application name empty), with parameters inlined."""
    records, current = [], None
    for line in text.split("\n"):
        if line.startswith("@@"):
            current = [line]
            records.append(current)
        elif current is not None:
            current.append(line)
    statements, last = [], None
    for record in records:
        head = record[0]
        match = re.match(r"@@(.*?)@@\s*(\w+):\s+(.*)", head)
        if not match:
            continue
        app, level, rest = match.groups()
        body = "\n".join([rest] + [l[1:] if l.startswith("\t") else l for l in record[1:]]).strip()
        if app in ("bench-ctl", "pgbench", "psql"):
            last = None
            continue
        if level == "LOG":
            m = re.match(r"(?:statement|execute [^:]+):\s*(.*)", body, re.S)
            if m:
                last = {"sql": m.group(1), "params": {}}
                statements.append(last)
        elif level == "DETAIL" and last is not None and body.startswith("parameters:"):
            for number, value in re.findall(r"\$(\d+) = (NULL|'(?:[^']|'')*')", body[len("parameters:"):]):
                last["params"][int(number)] = value
    return [inline(s["sql"], s["params"]) for s in statements]


def inline(sql, params):
    return re.sub(r"\$(\d+)\b", lambda m: params.get(int(m.group(1)), m.group(0)), sql)


UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
HASH = re.compile(r"'\\x([0-9a-f]{64})'")


def replay_script(statements, since, until, tag):
    """A pgbench script: the statements, with every id the request made (UUIDv7 stamped during
    it) and every 32-byte hash first seen in an INSERT replaced by fresh values per transaction
    (one extra statement, `\\gset`), and the invitation's capture tag by a fresh one."""
    fresh_ids, fresh_hashes = {}, {}
    for sql in statements:
        for found in UUID.findall(sql):
            millis = int(found.replace("-", "")[:12], 16)
            if since * 1000 <= millis <= until * 1000 and found not in fresh_ids:
                fresh_ids[found] = f"n{len(fresh_ids)}"
        if sql.lstrip().upper().startswith("INSERT"):
            for found in HASH.findall(sql):
                if found not in fresh_hashes and not any(found in earlier for earlier in statements[:statements.index(sql)]):
                    fresh_hashes[found] = f"h{len(fresh_hashes)}"
    columns = ["replace(gen_random_uuid()::text, '-', '') AS tag"]
    columns += [f"gen_random_uuid() AS {v}" for v in fresh_ids.values()]
    columns += [f"encode(sha256(gen_random_uuid()::text::bytea), 'hex') AS {v}" for v in fresh_hashes.values()]
    lines = [f"SELECT {', '.join(columns)} \\gset"]
    for sql in statements:
        for old, var in fresh_ids.items():
            sql = sql.replace(old, f":{var}")
        for old, var in fresh_hashes.items():
            sql = sql.replace(old, f":{var}")
        sql = sql.replace("CAPTAG", ":tag")
        lines.append(" ".join(sql.split()).rstrip(";") + ";")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for name in ("url", "psql", "pgbin", "pg-log", "admin-email", "admin-password", "argon2", "work", "results"):
        parser.add_argument(f"--{name}", required=True)
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--server-env", default="")
    parser.add_argument("--started", type=float, default=time.time())
    args = parser.parse_args()
    suite = Suite(args)
    suite.load_start = open("/proc/loadavg").read().split()[0]
    suite.run()
    table = suite.table()
    date = datetime.datetime.now(datetime.timezone.utc)
    wall = time.time() - args.started
    notes = "".join(f"\n- {note}" for note in suite.notes)
    text = (f"# dockgate benchmark, {date:%Y-%m-%d %H:%M} UTC\n\n{suite.machine()}\n\n{table}\n\n"
            f"Whole run after the build (PostgreSQL start, seeding, all measurements): {wall / 60:.1f} min; seeding {suite.wall['seed']:.0f} s.\n"
            + (f"\nNotes:{notes}\n" if notes else ""))
    os.makedirs(args.results, exist_ok=True)
    path = os.path.join(args.results, f"{date:%Y-%m-%d}-{socket.gethostname()}.md")
    with open(path, "w") as f:
        f.write(text)
    print(text)
    print(f"written to {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
