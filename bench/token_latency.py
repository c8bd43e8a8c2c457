#!/usr/bin/env python3
"""Latency of the OAuth token endpoint against a running dockgate (release build).

    cargo build --release
    export DOCKGATE_DATA_DIR=/tmp/dockgate-bench
    target/release/dockgate create-admin --email bench@operator.example --password 'bench passphrase 123'
    target/release/dockgate serve &
    bench/token_latency.py --url http://127.0.0.1:8080 --email bench@operator.example \
        --password 'bench passphrase 123' --requests 500 --concurrency 4

Creates a customer and an API client, then times `POST /v1/oauth/token` (client credentials by
HTTP Basic), a request made with the client's token (`GET /v1/customers/{id}/users`), and, as
the ceiling measured in the same run, `GET /health/live` (no database, no crypto). Reports the
median and p99 of each and the token endpoint's ratio to the ceiling: a secret check is one
SHA-256 and a constant-time compare, not Argon2, so the endpoint should cost about what any
signed-in read costs. Only talks to the URL given (use loopback).
"""
import argparse
import base64
import json
import statistics
import threading
import time
import uuid

from client import call, connect, sign_in


def timed(conn, method, path, body=None, headers=None):
    started = time.perf_counter()
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    data = response.read()
    if response.status != 200:
        raise SystemExit(f"{method} {path}: {response.status} {data[:300]!r}")
    return time.perf_counter() - started, data


def run(url, count, concurrency, request):
    """`count` requests per worker, `concurrency` workers, each on its own connection."""
    results, threads = [], []
    lock = threading.Lock()

    def work():
        conn = connect(url)
        mine = [request(conn) for _ in range(count)]
        with lock:
            results.extend(mine)

    started = time.perf_counter()
    for _ in range(concurrency):
        thread = threading.Thread(target=work)
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join()
    return results, time.perf_counter() - started


def summary(name, times, wall):
    times = sorted(times)
    p50 = statistics.median(times) * 1000
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))] * 1000
    print(f"{name:<28} median {p50:7.2f} ms   p99 {p99:7.2f} ms   {len(times) / wall:8.0f} req/s")
    return p50


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="http://127.0.0.1:8080")
    parser.add_argument("--email", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--requests", type=int, default=500, help="per worker")
    parser.add_argument("--concurrency", type=int, default=1)
    args = parser.parse_args()

    conn = connect(args.url)
    admin = sign_in(conn, args.email, args.password)
    code = f"BENCH-{uuid.uuid4().hex[:8]}"
    _, customer = call(conn, "POST", "/v1/customers", admin, {"name": f"Token bench {code}", "code": code})
    _, client = call(conn, "POST", f"/v1/customers/{customer['id']}/api-clients", admin,
                     {"name": "bench", "scopes": ["users.manage"]})
    basic = base64.b64encode(f"{client['client_id']}:{client['client_secret']}".encode()).decode()
    token_headers = {"authorization": f"Basic {basic}", "content-type": "application/x-www-form-urlencoded"}
    _, grant = timed(conn, "POST", "/v1/oauth/token", b"grant_type=client_credentials", token_headers)
    access = json.loads(grant)["access_token"]

    def token(c):
        return timed(c, "POST", "/v1/oauth/token", b"grant_type=client_credentials", token_headers)[0]

    def users(c):
        return timed(c, "GET", f"/v1/customers/{customer['id']}/users?limit=10", None,
                     {"authorization": f"Bearer {access}"})[0]

    def live(c):
        return timed(c, "GET", "/health/live")[0]

    print(f"{args.requests} requests x {args.concurrency} connections")
    ceiling = summary("GET /health/live (ceiling)", *run(args.url, args.requests, args.concurrency, live))
    read = summary("GET users as the client", *run(args.url, args.requests, args.concurrency, users))
    grant_ms = summary("POST /v1/oauth/token", *run(args.url, args.requests, args.concurrency, token))
    print(f"token endpoint / ceiling: {grant_ms / ceiling:.1f}x   token endpoint / client read: {grant_ms / read:.2f}x")


if __name__ == "__main__":
    main()
