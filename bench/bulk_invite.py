#!/usr/bin/env python3
"""Time of one 100-address bulk invitation against a running dockgate (release build).

    cargo build --release
    export DOCKGATE_DATA_DIR=/tmp/dockgate-bench
    target/release/dockgate create-admin --email bench@operator.example --password 'bench passphrase 123'
    target/release/dockgate serve &
    bench/bulk_invite.py --url http://127.0.0.1:8080 --email bench@operator.example \
        --password 'bench passphrase 123' --runs 10

Each run invites 100 fresh addresses into a new customer (each address: a user, an invitation,
an outbox mail and an audit event, all in one transaction) and reports the median and the
slowest run. Only talks to the URL given (use loopback).
"""
import argparse
import statistics
import time
import uuid

from client import call, connect, sign_in


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8080")
    parser.add_argument("--email", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    conn = connect(args.url)
    token = sign_in(conn, args.email, args.password)
    times = []
    for _ in range(args.runs):
        code = f"INV-{uuid.uuid4().hex[:8]}"
        _, customer = call(conn, "POST", "/v1/customers", token, {"name": "Bulk", "code": code})
        emails = [f"person{i}@{code.lower()}.example" for i in range(100)]
        elapsed, result = call(conn, "POST", f"/v1/customers/{customer['id']}/invitations", token,
                               {"emails": emails, "role": "user"})
        invited = sum(1 for r in result["results"] if r["outcome"] == "invited")
        if invited != 100:
            raise SystemExit(f"only {invited} of 100 invited")
        times.append(elapsed)
    print(f"100-address bulk invitation: median {statistics.median(times) * 1000:.1f} ms, "
          f"slowest {max(times) * 1000:.1f} ms over {args.runs} runs")


if __name__ == "__main__":
    main()
