#!/usr/bin/env python3
"""What webhooks cost a write, and how fast they are delivered (release build recommended).

    cargo build --release
    export DOCKGATE_DATA_DIR=/tmp/dockgate-bench WEBHOOK_ALLOW_HTTP=true WEBHOOK_ALLOWED_CIDRS=127.0.0.0/8
    target/release/dockgate create-admin --email bench@operator.example --password 'bench passphrase 123'
    target/release/dockgate serve &
    bench/webhooks.py --url http://127.0.0.1:8080 --email bench@operator.example \
        --password 'bench passphrase 123' --people 300 --endpoints 3

Creates a customer, then `--people` people without a login (no password hashing in the way)
while no endpoint listens, and as many again while `--endpoints` endpoints listen on a receiver
this script runs on loopback. Reports the median and p99 of a creation in both phases and
their ratio (the price of writing the event and its deliveries in the change's transaction),
then how long the deliveries took to arrive after the last write, deliveries per second, and
the p50/p99 of event-to-receipt latency (the body's `timestamp` to arrival). Only talks to
the URL given and to its own receiver (use loopback).
"""
import argparse
import datetime
import http.server
import json
import statistics
import threading
import time
import uuid

from client import call, connect, sign_in


class Receiver(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.lock = threading.Lock()
        self.arrivals = []  # (webhook-id, path, seconds from the event's timestamp)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        arrived = datetime.datetime.now(datetime.timezone.utc)
        sent = datetime.datetime.fromisoformat(json.loads(body)["timestamp"].replace("Z", "+00:00"))
        with self.server.lock:
            self.server.arrivals.append((self.headers["webhook-id"], self.path, (arrived - sent).total_seconds()))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def creations(conn, token, customer_id, count, tag):
    times = []
    for n in range(count):
        elapsed, _ = call(conn, "POST", f"/v1/customers/{customer_id}/users", token, {"name": f"{tag} {n}"})
        times.append(elapsed * 1000)
    return times


def p(values, q):
    return sorted(values)[min(len(values) - 1, int(len(values) * q))]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8080")
    parser.add_argument("--email", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--people", type=int, default=300)
    parser.add_argument("--endpoints", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=120)
    args = parser.parse_args()

    receiver = Receiver()
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    port = receiver.server_address[1]

    conn = connect(args.url)
    token = sign_in(conn, args.email, args.password)
    code = f"HOOKS-{uuid.uuid4().hex[:8]}"
    _, customer = call(conn, "POST", "/v1/customers", token, {"name": "Webhook bench", "code": code})
    customer_id = customer["id"]

    creations(conn, token, customer_id, 20, "Warm-up")
    quiet = creations(conn, token, customer_id, args.people, "Unheard")
    for n in range(args.endpoints):
        call(conn, "POST", f"/v1/customers/{customer_id}/webhooks", token,
             {"url": f"http://127.0.0.1:{port}/hook/{n}", "event_types": ["user.created"]})
    heard = creations(conn, token, customer_id, args.people, "Heard")
    last_write = time.perf_counter()

    expected = args.people * args.endpoints
    deadline = last_write + args.timeout
    while time.perf_counter() < deadline:
        with receiver.lock:
            if len(receiver.arrivals) >= expected:
                break
        time.sleep(0.01)
    drained = time.perf_counter() - last_write
    with receiver.lock:
        arrivals = list(receiver.arrivals)
    ids = {(webhook_id, path) for webhook_id, path, _ in arrivals}
    latencies = [seconds * 1000 for _, _, seconds in arrivals]
    write_span = sum(heard) / 1000

    print(f"create a person, nobody listening: median {statistics.median(quiet):.2f} ms, p99 {p(quiet, 0.99):.2f} ms")
    print(f"create a person, {args.endpoints} endpoints listening: median {statistics.median(heard):.2f} ms, "
          f"p99 {p(heard, 0.99):.2f} ms; ratio of medians {statistics.median(heard) / statistics.median(quiet):.2f}")
    print(f"deliveries: {len(arrivals)} of {expected} received ({len(arrivals) - len(ids)} duplicates), "
          f"the last {drained:.2f} s after the last write; {len(arrivals) / (write_span + drained):.0f}/s over the run")
    if latencies:
        print(f"event to receipt: p50 {p(latencies, 0.5):.0f} ms, p99 {p(latencies, 0.99):.0f} ms, max {max(latencies):.0f} ms")
    if len(ids) < expected:
        raise SystemExit("not every delivery arrived")


if __name__ == "__main__":
    main()
