# Sourced by .ci/fuzz and .ci/client: starts `$binary serve` on its own embedded PostgreSQL in a
# temporary folder with a platform admin, and stops it (and removes the folder) on exit.
# Needs: binary, port. Sets: work, base, admin_email, admin_password, server_pid.

work=$(mktemp -d /tmp/dockgate-ci.XXXXXX)
chmod 755 "$work"
export DOCKGATE_DATA_DIR="$work/data" BIND_ADDR="127.0.0.1:$port" ACCESS_TOKEN_TTL=2h REFRESH_TOKEN_TTL=1d \
  LOG_FORMAT=json RUST_LOG=warn
# The fuzzer may create a webhook endpoint on any public address: nothing a CI run does may leave
# this machine, so the webhook worker here never comes round to a delivery, unless the script
# says otherwise (.ci/webhook-receivers, whose receivers listen on loopback and nothing else is
# allowed).
export WEBHOOK_POLL_INTERVAL=${WEBHOOK_POLL_INTERVAL:-1000d}
# A fixed key so MFA enrolment works under schemathesis (never a production key).
export MFA_ENCRYPTION_KEY=${MFA_ENCRYPTION_KEY:-AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=}
unset DATABASE_URL
base="http://127.0.0.1:$port"

server_pid=
stop_server() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid"
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap stop_server EXIT

admin_email=ci-admin@operator.example
admin_password='continuous integration admin passphrase'
"$binary" create-admin --email "$admin_email" --password-stdin <<<"$admin_password" >/dev/null
"$binary" serve >"$work/server.log" 2>&1 &
server_pid=$!

for _ in $(seq 1 100); do
  curl -fsS "$base/health/ready" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fsS "$base/health/ready" >/dev/null

# Our own errors (500s, panics) are logged at ERROR by dockgate's targets; actix's complaints
# about malformed requests are the caller's doing. Exits 1 after printing them.
server_logged_no_errors() {
  if grep '"level":"ERROR"' "$work/server.log" | grep -q '"target":"dockgate'; then
    echo "the server logged errors:" >&2
    grep '"level":"ERROR"' "$work/server.log" | grep '"target":"dockgate' | head -20 >&2
    return 1
  fi
}
