#!/usr/bin/env python3
"""Login latency against a running dockgate (release build recommended).

    cargo build --release
    DOCKGATE_DATA_DIR=/tmp/dockgate-bench target/release/dockgate create-admin \
        --email bench@operator.example --password 'bench passphrase 123'
    DOCKGATE_DATA_DIR=/tmp/dockgate-bench target/release/dockgate serve &
    bench/login_latency.py --url http://127.0.0.1:8080 --email bench@operator.example \
        --password 'bench passphrase 123' --requests 200 --concurrency 1

Reports the median, p95 and throughput of successful sign-ins (POST /v1/auth/login), and of
`GET /v1/me` with the issued token. Only talks to the URL given (use loopback).
"""
import argparse
import http.client
import json
import statistics
import threading
import time
import urllib.parse


def timed(conn, method, path, body=None, headers=None):
    started = time.perf_counter()
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    data = response.read()
    return time.perf_counter() - started, response.status, data


def worker(url, email, password, count, results, errors):
    parsed = urllib.parse.urlparse(url)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
    body = json.dumps({"email": email, "password": password})
    token = None
    for _ in range(count):
        elapsed, status, data = timed(conn, "POST", "/v1/auth/login", body, {"content-type": "application/json"})
        if status == 200:
            results["login"].append(elapsed)
            token = json.loads(data)["access_token"]
        else:
            errors.append(status)
        if token:
            elapsed, status, _ = timed(conn, "GET", "/v1/me", headers={"authorization": f"Bearer {token}"})
            (results["me"].append(elapsed) if status == 200 else errors.append(status))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8080")
    parser.add_argument("--email", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--requests", type=int, default=200, help="sign-ins per worker (bounded)")
    parser.add_argument("--concurrency", type=int, default=1)
    args = parser.parse_args()
    host = urllib.parse.urlparse(args.url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("benchmark only loopback addresses")

    results = {"login": [], "me": []}
    errors = []
    started = time.perf_counter()
    threads = [
        threading.Thread(target=worker, args=(args.url, args.email, args.password, min(args.requests, 10_000), results, errors))
        for _ in range(args.concurrency)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    for name, samples in results.items():
        if not samples:
            continue
        samples.sort()
        p95 = samples[int(len(samples) * 0.95) - 1]
        print(f"{name:6} n={len(samples):5}  median={statistics.median(samples) * 1000:7.2f} ms  p95={p95 * 1000:7.2f} ms")
    print(f"wall {wall:.2f} s, {len(results['login']) / wall:.1f} sign-ins/s, errors: {len(errors)} {sorted(set(errors))}")


if __name__ == "__main__":
    main()
