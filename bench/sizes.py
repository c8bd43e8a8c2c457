#!/usr/bin/env python3
"""Rows and bytes per user, per customer and per session, at 1 M users, for docs/scaling.md.

Run by `BENCH_ONLY=sizes bench/run` (run that, not this): the same private PostgreSQL and
release server as the suite. Every kind of row is first made once through the API (so each
carries what the service writes: Argon2 hashes, audit payloads, token hashes), then cloned by
SQL to the profile below, VACUUM ANALYZEd, and measured with pg_relation_size (heap, TOAST and
each index separately). The profile is stated in the output, since every figure depends on it:

- CUSTOMERS customers, each with 5 warehouse addresses, 10 cost centers and 10 groups;
- USERS users spread evenly over them; LOGIN_SHARE of them sign in (e-mail + password), the
  rest are people without a login (name, phone);
- every user has a default address and a cost center, MEMBER_SHARE are in one group;
- every user's creation is one audit event (its real payload);
- every user who signs in holds one live session with two refresh tokens (the current one
  and the one it replaced, as rotation leaves them).
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from suite import PASSWORD, Api, log  # noqa: E402  (the suite's client and helpers)

LOGIN_SHARE = 0.30
MEMBER_SHARE = 0.20


class Sizes:
    def __init__(self, args):
        self.args = args
        self.api = Api(args.url)
        self.psql = args.psql.split()

    def sql(self, query):
        import subprocess
        out = subprocess.run(self.psql + ["-d", "dockgate", "-At", "-v", "ON_ERROR_STOP=1", "-c", query],
                             capture_output=True, text=True)
        if out.returncode != 0:
            raise SystemExit(f"psql: {out.stderr.strip()}\n{query[:600]}")
        return out.stdout.strip()

    def clone(self, table, template_where, overrides, source_extra="", where=""):
        """INSERT INTO table SELECT <the template row with overrides> FROM table t ..."""
        columns = self.sql(f"SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM "
                           f"information_schema.columns WHERE table_name = '{table}' AND table_schema = 'public' "
                           f"AND is_generated = 'NEVER'")
        names = columns.split(",")
        exprs = [overrides.get(name, f"t.{name}") for name in names]
        self.sql(f"INSERT INTO {table} ({', '.join(names)}) SELECT {', '.join(exprs)} "
                 f"FROM {table} t {source_extra} WHERE {template_where} {('AND ' + where) if where else ''}")

    def templates(self):
        """One of each row, made by the service."""
        api = self.api
        admin = api.login(self.args.admin_email, self.args.admin_password)["access_token"]
        customer = api.call("POST", "/v1/customers", admin, {"name": "Sizes template", "code": "SIZES-T"})
        cid = self.cid = customer["id"]
        for i in range(5):
            api.call("POST", f"/v1/customers/{cid}/warehouse-addresses", admin,
                     {"label": f"Depot {i}", "line1": f"Hafenstrasse {i + 1}", "city": "Hamburg",
                      "postal_code": "20457", "country": "DE", "contact_name": "Dock office",
                      "phone": "+49 40 1234567", "is_default": i == 0})
        for i in range(10):
            api.call("POST", f"/v1/customers/{cid}/cost-centers", admin,
                     {"code": f"CC-{i:04}", "name": f"Cost center {i}"})
        group = api.call("POST", f"/v1/customers/{cid}/groups", admin,
                         {"name": "Group 0", "description": "Depot team"})["id"]
        for i in range(1, 10):
            api.call("POST", f"/v1/customers/{cid}/groups", admin, {"name": f"Group {i}", "description": "Depot team"})
        cost_center = self.sql(f"SELECT id FROM cost_centers WHERE customer_id = '{cid}' AND code = 'CC-0000'")
        login = api.call("POST", f"/v1/customers/{cid}/users", admin, {
            "name": "Template Login-User", "email": "template.login@sizes.example", "password": PASSWORD,
            "role": "user", "phone": "+49 170 1234567", "permissions": ["orders.view", "orders.create"],
            "group_ids": [group], "cost_center_id": cost_center})
        person = api.call("POST", f"/v1/customers/{cid}/users", admin, {
            "name": "Template Person", "phone": "+49 170 7654321", "cost_center_id": cost_center})
        self.login_user, self.person = login["id"], person["id"]
        pair = api.login("template.login@sizes.example")
        api.call("POST", "/v1/auth/refresh", body={"refresh_token": pair["refresh_token"]})
        self.session = self.sql(f"SELECT id FROM sessions WHERE user_id = '{self.login_user}'")
        self.group = group

    def seed(self):
        args, cid = self.args, self.cid
        started = time.time()
        per_customer = args.users // args.customers
        logins = int(per_customer * LOGIN_SHARE)
        log(f"cloning to {args.customers:,} customers x {per_customer:,} users ({logins} with a login)")
        self.clone("customers", f"t.id = '{cid}'", {
            "id": "gen_random_uuid()", "name": "'Customer ' || lpad(i::text, 6, '0')",
            "code": "'C-' || lpad(i::text, 6, '0')", "contact_email": "'dispatch' || i || '@customer.example'",
        }, f"CROSS JOIN generate_series(1, {args.customers - 1}) i")
        others = "(SELECT id, row_number() OVER (ORDER BY id) AS n FROM customers WHERE code LIKE 'C-%') c"
        for table in ("warehouse_addresses", "cost_centers", "groups"):
            self.clone(table, f"t.customer_id = '{cid}'", {"customer_id": "c.id", "id": "gen_random_uuid()"},
                       f"CROSS JOIN {others}")
        # a user's address and cost center are those of the same label in its own customer
        # (the template's labels are read once: a lookup by id alone has no index)
        label = self.sql(f"SELECT a.label FROM users u JOIN warehouse_addresses a ON a.customer_id = u.customer_id "
                         f"AND a.id = u.warehouse_address_id WHERE u.id = '{self.person}'")
        code = self.sql(f"SELECT x.code FROM users u JOIN cost_centers x ON x.customer_id = u.customer_id "
                        f"AND x.id = u.cost_center_id WHERE u.id = '{self.person}'")
        user_refs = {
            "warehouse_address_id": (f"(SELECT x.id FROM warehouse_addresses x WHERE x.customer_id = c.id "
                                     f"AND x.label = '{label}')") if label else "NULL",
            "cost_center_id": (f"(SELECT x.id FROM cost_centers x WHERE x.customer_id = c.id AND x.code = '{code}')"
                               if code else "NULL"),
        }
        self.clone("users", f"t.id = '{self.login_user}'", {
            "id": "gen_random_uuid()", "customer_id": "c.id", "customer_ids": "ARRAY[c.id]",
            "name": "'Login ' || c.n || '-' || i", "email": "'login' || c.n || '.' || i || '@customer.example'",
            **user_refs,
        }, f"CROSS JOIN (SELECT id, n FROM {others} UNION ALL SELECT '{cid}'::uuid, 0) c "
           f"CROSS JOIN generate_series(1, {logins}) i")
        self.clone("users", f"t.id = '{self.person}'", {
            "id": "gen_random_uuid()", "customer_id": "c.id", "customer_ids": "ARRAY[c.id]",
            "name": "'Person ' || c.n || '-' || i", **user_refs,
        }, f"CROSS JOIN (SELECT id, n FROM {others} UNION ALL SELECT '{cid}'::uuid, 0) c "
           f"CROSS JOIN generate_series(1, {per_customer - logins}) i")
        self.sql("INSERT INTO group_members (customer_id, group_id, user_id, created_at) "
                 "SELECT u.customer_id, (SELECT g.id FROM groups g WHERE g.customer_id = u.customer_id "
                 "AND g.name = 'Group ' || (abs(hashtext(u.id::text)) % 10)), u.id, now() FROM users u "
                 f"WHERE u.customer_id IS NOT NULL AND abs(hashtext(u.id::text)) % 100 < {int(MEMBER_SHARE * 100)}")
        event = self.sql(f"SELECT id FROM audit_events WHERE target_id = '{self.person}' AND action = 'user.created'")
        if not event:
            event = self.sql(f"SELECT id FROM audit_events WHERE target_id = '{self.person}' ORDER BY occurred_at LIMIT 1")
        self.clone("audit_events", f"t.id = '{event}'", {
            "id": "gen_random_uuid()", "target_id": "u.id", "customer_id": "u.customer_id",
        }, "CROSS JOIN users u", "u.kind = 'customer_user'")
        self.clone("sessions", f"t.id = '{self.session}'", {"id": "gen_random_uuid()", "user_id": "u.id"},
                   "CROSS JOIN users u", "u.kind = 'customer_user' AND u.login_enabled")
        self.clone("refresh_tokens", f"t.session_id = '{self.session}'", {
            "id": "gen_random_uuid()", "session_id": "s.id", "token_hash": "sha256(gen_random_uuid()::text::bytea)",
        }, "CROSS JOIN sessions s", f"s.id <> '{self.session}'")
        # the two template users are not counted twice (their session and tokens go with them)
        self.sql(f"DELETE FROM users WHERE id IN ('{self.login_user}', '{self.person}')")
        self.sql("VACUUM ANALYZE")
        log(f"seeded in {time.time() - started:.0f} s")

    def measure(self):
        rows = json.loads(self.sql("""
            SELECT json_agg(json_build_object(
                'table', c.relname, 'rows', c.reltuples::bigint,
                'heap', pg_relation_size(c.oid),
                'toast', COALESCE(pg_total_relation_size(NULLIF(c.reltoastrelid, 0)), 0),
                'indexes', pg_indexes_size(c.oid)) ORDER BY pg_total_relation_size(c.oid) DESC)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname NOT LIKE '\\_\\_%'"""))
        by = {r["table"]: r for r in rows}

        def total(name):
            r = by.get(name)
            return (r["heap"] + r["toast"] + r["indexes"]) if r else 0

        users = int(self.sql("SELECT count(*) FROM users WHERE kind = 'customer_user'"))
        customers = int(self.sql("SELECT count(*) FROM customers"))
        sessions = int(self.sql("SELECT count(*) FROM sessions"))
        logins = int(self.sql("SELECT count(*) FROM users WHERE kind = 'customer_user' AND login_enabled"))
        per_user_tables = ["users", "login_emails", "group_members", "audit_events"]
        per_customer_tables = ["customers", "warehouse_addresses", "cost_centers", "groups"]
        per_session_tables = ["sessions", "refresh_tokens"]
        mib = 1024 * 1024
        out = [f"Profile: {customers:,} customers, {users:,} users ({logins:,} sign in, {sessions:,} live sessions), "
               f"{MEMBER_SHARE:.0%} of users in a group, one audit event per user; "
               f"database {int(self.sql('SELECT pg_database_size(current_database())')) / mib:,.0f} MiB.",
               "",
               "| table | rows | heap MiB | TOAST MiB | indexes MiB | total MiB | bytes per row (total) |",
               "|---|---:|---:|---:|---:|---:|---:|"]
        for r in rows:
            t = r["heap"] + r["toast"] + r["indexes"]
            if t < 64 * 1024 and r["rows"] < 100:
                continue
            per_row = f"{t / r['rows']:,.0f}" if r["rows"] > 0 else "-"
            out.append(f"| {r['table']} | {r['rows']:,} | {r['heap'] / mib:,.1f} | {r['toast'] / mib:,.1f} | "
                       f"{r['indexes'] / mib:,.1f} | {t / mib:,.1f} | {per_row} |")
        per_user = sum(total(t) for t in per_user_tables) / users
        per_customer = sum(total(t) for t in per_customer_tables) / customers
        per_session = sum(total(t) for t in per_session_tables) / max(sessions, 1)
        out += ["",
                f"- per user ({' + '.join(per_user_tables)}): **{per_user:,.0f} bytes**",
                f"- per customer ({' + '.join(per_customer_tables)}): **{per_customer:,.0f} bytes**",
                f"- per live session ({' + '.join(per_session_tables)}, two refresh tokens): **{per_session:,.0f} bytes**",
                f"- audit: **{total('audit_events') / max(by.get('audit_events', {}).get('rows', 1), 1):,.0f} bytes per event**"]
        return "\n".join(out)


def main():
    parser = argparse.ArgumentParser()
    for name in ("url", "psql", "admin-email", "admin-password", "results"):
        parser.add_argument(f"--{name}", required=True)
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=1000)
    args = parser.parse_args()
    sizes = Sizes(args)
    sizes.templates()
    sizes.seed()
    report = sizes.measure()
    print(report)
    os.makedirs(args.results, exist_ok=True)
    path = os.path.join(args.results, f"{time.strftime('%Y-%m-%d')}-sizes.md")
    with open(path, "w") as f:
        f.write(f"# Sizes at {args.users:,} users ({time.strftime('%Y-%m-%d')}, `BENCH_ONLY=sizes bench/run`)\n\n")
        f.write(report + "\n")
    print(f"written to {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
