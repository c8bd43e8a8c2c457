#!/usr/bin/env python3
"""Memory and latency of a burst of sign-ins with unknown e-mail addresses (release build).

    cargo build --release
    export DOCKGATE_DATA_DIR=/var/tmp/dockgate-bench
    target/release/dockgate create-admin --email bench@operator.example --password 'bench passphrase 123'
    LOGIN_MAX_FAILURES_PER_CLIENT=1000000 target/release/dockgate serve &
    bench/hash_burst.py --url http://127.0.0.1:8080 --pid $! --email bench@operator.example \
        --password 'bench passphrase 123' --burst 150

Signs the admin in, waits for the process to be idle and reads its resident set (VmRSS of
/proc/<pid>/status); then fires `--burst` sign-ins at once (each on its own, already open
connection) with e-mail addresses no account has, while one client keeps calling `GET /v1/me`
with the admin's token. Reports the resident set before, at the peak (sampled every 10 ms) and
`--settle` seconds after the burst, the statuses of the sign-ins, and the `GET /v1/me` latency
during the burst. `--bursts` repeats the burst on the same process. Start the server with a
high LOGIN_MAX_FAILURES_PER_CLIENT: every sign-in comes from one address, and the benchmark
measures hashing, not the failure limit. Only talks to the URL given (use loopback).
"""
import argparse
import collections
import json
import statistics
import threading
import time
import urllib.parse
import uuid

from client import connect, sign_in


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise SystemExit(f"no VmRSS for process {pid}")


def percentile(samples, fraction):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


class Sampler(threading.Thread):
    """The highest resident set seen while it runs."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak, self.stopping = pid, 0.0, threading.Event()

    def run(self):
        while not self.stopping.is_set():
            self.peak = max(self.peak, rss_mib(self.pid))
            time.sleep(0.01)


def me_loop(url, token, stopping, latencies, errors):
    conn = connect(url)
    headers = {"authorization": f"Bearer {token}"}
    while not stopping.is_set():
        started = time.perf_counter()
        conn.request("GET", "/v1/me", headers=headers)
        response = conn.getresponse()
        response.read()
        latencies.append(time.perf_counter() - started)
        if response.status != 200:
            errors.append(response.status)


def sign_in_unknown(url, ready, statuses, latencies):
    conn = connect(url)
    conn.connect()
    body = json.dumps({"email": f"nobody-{uuid.uuid4().hex}@example.com", "password": "no such password"})
    ready.wait()
    started = time.perf_counter()
    try:
        conn.request("POST", "/v1/auth/login", body=body, headers={"content-type": "application/json"})
        response = conn.getresponse()
        response.read()
        statuses[response.status] += 1
    except OSError as error:
        statuses[type(error).__name__] += 1
    latencies.append(time.perf_counter() - started)


def burst(args, token):
    statuses, login_latencies, me_latencies, me_errors = collections.Counter(), [], [], []
    ready = threading.Barrier(args.burst + 1)
    senders = [threading.Thread(target=sign_in_unknown, args=(args.url, ready, statuses, login_latencies))
               for _ in range(args.burst)]
    for sender in senders:
        sender.start()
    stopping = threading.Event()
    reader = threading.Thread(target=me_loop, args=(args.url, token, stopping, me_latencies, me_errors))
    sampler = Sampler(args.pid)
    sampler.start()
    reader.start()
    started = time.perf_counter()
    ready.wait()
    for sender in senders:
        sender.join()
    wall = time.perf_counter() - started
    stopping.set()
    reader.join()
    time.sleep(args.settle)
    sampler.stopping.set()
    sampler.join()
    return {
        "peak": sampler.peak, "after": rss_mib(args.pid), "wall": wall, "statuses": dict(sorted(statuses.items(), key=str)),
        "login_p50": statistics.median(login_latencies), "login_max": max(login_latencies),
        "me": me_latencies, "me_errors": me_errors,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8080")
    parser.add_argument("--pid", type=int, required=True, help="process id of the dockgate serve process")
    parser.add_argument("--email", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--burst", type=int, default=150, help="sign-ins at once (at most 1000)")
    parser.add_argument("--bursts", type=int, default=1)
    parser.add_argument("--settle", type=float, default=10.0, help="seconds to wait before the 'after' reading")
    args = parser.parse_args()
    if urllib.parse.urlparse(args.url).hostname not in ("127.0.0.1", "localhost", "::1"):
        parser.error("benchmark only loopback addresses")
    args.burst = min(args.burst, 1000)

    token = sign_in(connect(args.url), args.email, args.password)
    time.sleep(args.settle)
    print(f"RSS before: {rss_mib(args.pid):7.1f} MiB")
    for round_ in range(1, args.bursts + 1):
        result = burst(args, token)
        me = result["me"]
        print(f"burst {round_}: {args.burst} sign-ins in {result['wall']:.2f} s, statuses {result['statuses']}, "
              f"sign-in p50 {result['login_p50'] * 1000:.0f} ms, max {result['login_max'] * 1000:.0f} ms")
        print(f"  RSS peak {result['peak']:7.1f} MiB, {args.settle:.0f} s after {result['after']:7.1f} MiB")
        print(f"  GET /v1/me during the burst: n={len(me)} p50={percentile(me, 0.5) * 1000:.1f} ms "
              f"p99={percentile(me, 0.99) * 1000:.1f} ms max={max(me) * 1000:.1f} ms, errors {result['me_errors']}")


if __name__ == "__main__":
    main()
