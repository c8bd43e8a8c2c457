"""The little HTTP client the benchmark scripts share (standard library only)."""
import http.client
import json
import time
import urllib.parse


def connect(url):
    parsed = urllib.parse.urlparse(url)
    return http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=60)


def call(conn, method, path, token=None, body=None):
    """Sends one request; returns (seconds, parsed JSON or None). Stops the script on >= 300."""
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    started = time.perf_counter()
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    response = conn.getresponse()
    data = response.read()
    elapsed = time.perf_counter() - started
    if response.status >= 300:
        raise SystemExit(f"{method} {path}: {response.status} {data[:300]!r}")
    return elapsed, json.loads(data) if data else None


def sign_in(conn, email, password):
    _, tokens = call(conn, "POST", "/v1/auth/login", body={"email": email, "password": password})
    return tokens["access_token"]
