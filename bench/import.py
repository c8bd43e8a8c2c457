#!/usr/bin/env python3
"""Time and memory of a 10,000-row CSV import against a running dockgate (release build).

    cargo build --release
    export DOCKGATE_DATA_DIR=/tmp/dockgate-bench
    target/release/dockgate create-admin --email bench@operator.example --password 'bench passphrase 123'
    target/release/dockgate serve &
    bench/import.py --url http://127.0.0.1:8080 --email bench@operator.example \
        --password 'bench passphrase 123' --pid $! --rows 10000

Creates a customer with a warehouse address, then imports `--rows` people as one CSV file
(each with a login, an external id, `send_mail=true` and one permission list: per row a user,
its audit event, a welcome mail in the outbox and its set-password link), and then the same
file again with `mode=upsert` (every row unchanged: read, compared, nothing written). Reports
the time of each import and, with `--pid` (the server's process, Linux only), the growth of its
resident memory: the peak (`VmHWM`, reset before each import through `/proc/PID/clear_refs`
when allowed) against the resident size before. Only talks to the URL given (use loopback).
"""
import argparse
import io
import json
import time
import uuid

from client import call, connect, sign_in


def memory_kib(pid, field):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise SystemExit(f"no {field} for process {pid}")


def reset_peak(pid):
    """Makes VmHWM start again from the current size; False where the kernel refuses."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as clear:
            clear.write("5")
        return True
    except OSError:
        return False


def csv_file(rows, code):
    out = io.StringIO()
    out.write("\ufeffname,email,external_id,permissions,send_mail\r\n")
    for i in range(rows):
        out.write(f"Person {i},person{i}@{code}.example,{code}-{i},orders.view;tracking.view,true\r\n")
    return out.getvalue().encode()


def run_import(conn, token, customer, body, mode, pid):
    before = memory_kib(pid, "VmRSS") if pid else None
    peak_reset = reset_peak(pid) if pid else False
    headers = {"content-type": "text/csv", "authorization": f"Bearer {token}"}
    started = time.perf_counter()
    conn.request("POST", f"/v1/customers/{customer}/users/import?mode={mode}", body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    elapsed = time.perf_counter() - started
    if response.status != 200:
        raise SystemExit(f"import: {response.status} {data[:300]!r}")
    report = json.loads(data)
    growth = None
    if pid:
        growth = (memory_kib(pid, "VmHWM") - before) / 1024
    return elapsed, report["summary"], growth, peak_reset


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8080")
    parser.add_argument("--email", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--pid", type=int, help="the server's process id, to measure its memory")
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args()
    conn = connect(args.url)
    conn.timeout = 600
    token = sign_in(conn, args.email, args.password)
    code = f"imp{uuid.uuid4().hex[:8]}"
    _, customer = call(conn, "POST", "/v1/customers", token, {"name": "Import bench", "code": code})
    call(conn, "POST", f"/v1/customers/{customer['id']}/warehouse-addresses", token,
         {"label": "Main", "line1": "Kai 1", "city": "Hamburg", "country": "DE"})
    body = csv_file(args.rows, code)
    print(f"CSV of {args.rows} rows, {len(body) / 1024 / 1024:.2f} MiB")
    for mode, expect in (("create", "created"), ("upsert", "unchanged")):
        elapsed, summary, growth, peak_reset = run_import(conn, token, customer["id"], body, mode, args.pid)
        if summary[expect] != args.rows:
            raise SystemExit(f"{mode}: expected {args.rows} {expect}, got {summary}")
        memory = ""
        if growth is not None:
            how = "peak since reset" if peak_reset else "peak since start (clear_refs refused)"
            memory = f", RSS growth {growth:.1f} MB ({how})"
        print(f"mode={mode}: {args.rows} rows {expect} in {elapsed:.2f} s "
              f"({args.rows / elapsed:.0f} rows/s){memory}")


if __name__ == "__main__":
    main()
