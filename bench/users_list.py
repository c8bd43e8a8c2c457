#!/usr/bin/env python3
"""Users-list latency with many users in one customer (release build recommended).

    cargo build --release
    export DOCKGATE_DATA_DIR=/tmp/dockgate-bench
    target/release/dockgate create-admin --email bench@operator.example --password 'bench passphrase 123'
    target/release/dockgate serve &
    bench/users_list.py --url http://127.0.0.1:8080 --email bench@operator.example \
        --password 'bench passphrase 123' --psql "psql -h $DOCKGATE_DATA_DIR/run -p 54329 -U postgres dockgate" \
        --users 100000

Creates a customer through the API, inserts `--users` users without login into it with one SQL
statement (through the `--psql` command: the API path would time Argon2-free inserts, not
lists), then times `GET /v1/customers/{id}/users?limit=100` for the first page and for page
1,000 (reached by following `next_cursor`), and a `q` search. Reports medians of `--repeat`
requests each. Only talks to the URL given (use loopback).
"""
import argparse
import shlex
import statistics
import subprocess
import time
import uuid

from client import call, connect, sign_in


def median_ms(conn, path, token, repeat):
    times = [call(conn, "GET", path, token)[0] for _ in range(repeat)]
    return statistics.median(times) * 1000


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8080")
    parser.add_argument("--email", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--psql", required=True, help="a psql command line connected to dockgate's database")
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--page", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()

    conn = connect(args.url)
    token = sign_in(conn, args.email, args.password)
    code = f"BENCH-{uuid.uuid4().hex[:8]}"
    _, customer = call(conn, "POST", "/v1/customers", token, {"name": "Bench customer", "code": code})
    customer_id = customer["id"]

    sql = f"""
        INSERT INTO users (id, kind, customer_id, email, name, role, status, login_enabled, permissions, data_scope)
        SELECT uuid_generate_v7_bench(n), 'customer_user', '{customer_id}',
               'bench-' || n || '@{code.lower()}.example', 'Bench User ' || n, 'user', 'active', false,
               '{{orders.view,tracking.view,pod.download}}', 'all'
        FROM generate_series(1, {args.users}) AS n;
    """
    # UUIDv7-like ids in insertion order, as the service makes them (time prefix + counter).
    function = """
        CREATE OR REPLACE FUNCTION uuid_generate_v7_bench(n bigint) RETURNS uuid LANGUAGE sql AS $$
          SELECT (lpad(to_hex((extract(epoch from clock_timestamp()) * 1000)::bigint), 12, '0')
                  || '7' || lpad(to_hex(n % 4096), 3, '0') || '8' || lpad(to_hex(n), 15, '0'))::uuid
        $$;
    """
    started = time.perf_counter()
    subprocess.run([*shlex.split(args.psql), "-q", "-v", "ON_ERROR_STOP=1", "-c", function, "-c", sql,
                    "-c", "DROP FUNCTION uuid_generate_v7_bench(bigint); ANALYZE users;"], check=True)
    print(f"inserted {args.users} users in {time.perf_counter() - started:.1f} s")
    # The insert may outlast the server's keep-alive; start a fresh connection.
    conn = connect(args.url)

    base = f"/v1/customers/{customer_id}/users?limit={args.page_size}"
    first = median_ms(conn, base, token, args.repeat)
    cursor, page = None, 1
    while page < args.page:
        _, body = call(conn, "GET", base + (f"&cursor={cursor}" if cursor else ""), token)
        cursor = body["next_cursor"]
        if cursor is None:
            raise SystemExit(f"only {page} pages of {args.page_size}")
        page += 1
    late = median_ms(conn, f"{base}&cursor={cursor}", token, args.repeat)
    search = median_ms(conn, f"{base}&q=user%2099999", token, args.repeat)
    staff_search = median_ms(conn, f"/v1/users?q=bench-4242@&limit=50", token, args.repeat)
    print(f"page 1: {first:.2f} ms; page {args.page} (rows {(args.page - 1) * args.page_size + 1}.."
          f"{args.page * args.page_size}): {late:.2f} ms; q search in the customer: {search:.2f} ms; "
          f"GET /v1/users?q= across customers: {staff_search:.2f} ms (medians of {args.repeat})")


if __name__ == "__main__":
    main()
