#!/usr/bin/env bash
# What deploy/ ships, tried for real: every systemd unit passes `systemd-analyze verify` (the binary's path substituted),
# and deploy/nginx/mdp.conf runs on loopback with a self-signed certificate: the smoke test goes through it, then its
# own promises are checked (redirect to HTTPS, HTTP/2, gzip, security headers, the public cache, rate limits on login
# and sign-up, the body limit, one request id in both logs).
# Usage: scripts/deploy-test.sh path/to/mdp
set -euo pipefail
binary=$(cd "$(dirname "${1:?usage: deploy-test.sh path/to/mdp}")" && pwd)/$(basename "$1")
dir=$(mktemp -d)
chmod 755 "$dir"
pid=""
cleanup() {
    set +e
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    scripts/nginx-site.sh stop "$dir"
    rm -rf "$dir"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
passed=0 failed=0
check() {  # check NAME COMMAND...
    if "${@:2}"; then passed=$((passed + 1)); echo "deploy: ok   $1"; else failed=$((failed + 1)); echo "deploy: FAILED $1"; fi
}

# 1. systemd units: no warning, no error.
mkdir -p "$dir/units"
for unit in deploy/systemd/*.service deploy/systemd/*.timer; do
    sed -e "s|/usr/local/bin/mdp|$binary|g" -e "s|/usr/local/sbin/mdp-pgdump|$PWD/deploy/mdp-pgdump|g" "$unit" \
        >"$dir/units/$(basename "$unit")"
done
for unit in "$dir"/units/*; do
    out=$(cd "$dir/units" && systemd-analyze verify --man=no "$(basename "$unit")" 2>&1) && status=0 || status=$?
    check "systemd-analyze verify $(basename "$unit")" test "$status:$out" = "0:"
    [ -z "$out" ] || echo "$out"
done
grep -q "ProtectSystem=strict" deploy/systemd/mdp.service && grep -q "NoNewPrivileges=yes" deploy/systemd/mdp.service &&
    grep -q "LoadCredential=" deploy/systemd/mdp.service || { echo "deploy: mdp.service lost its hardening"; exit 1; }

# deploy/mdp-pgdump with stand-ins for pg_dump and pg_restore: the password never on a command line.
mkdir -p "$dir/pg/bin" "$dir/pg/credentials" "$dir/pg/backups"
printf '%s' 'postgres://mdp:S3cret%25pw@db.example.fr:5432/mdp?sslmode=require' >"$dir/pg/credentials/database-url"
cat >"$dir/pg/bin/pg_dump" <<'FAKE'
#!/bin/sh
echo "argv: $*" >>"$FAKE_LOG"; echo "password: $PGPASSWORD" >>"$FAKE_LOG"
for a in "$@"; do case $a in --file=*) echo dump >"${a#--file=}";; esac; done
FAKE
printf '#!/bin/sh
exit 0
' >"$dir/pg/bin/pg_restore"
chmod +x "$dir/pg/bin/pg_dump" "$dir/pg/bin/pg_restore"
touch "$dir/pg/backups/mdp-2020-01-01T000000Z.dump"
PATH="$dir/pg/bin:$PATH" FAKE_LOG="$dir/pg/log" CREDENTIALS_DIRECTORY="$dir/pg/credentials" deploy/mdp-pgdump "$dir/pg/backups" 1 >/dev/null
check "mdp-pgdump keeps the password off pg_dump's command line" test "$(grep -c 'S3cret' "$dir/pg/log")" = 1
check "mdp-pgdump gives pg_dump the decoded password" grep -qx 'password: S3cret%pw' "$dir/pg/log"
check "mdp-pgdump keeps the last dumps, renamed when read back" test "$(ls "$dir/pg/backups" | grep -c '^mdp-.*Z\.dump$')" = 1

# 2. The nginx site in front of the smoke test.
https=$(free_port) http=$(free_port) port=$(free_port)
ca=$(scripts/nginx-site.sh start "$dir" "$https" "$http" "$port")
export CURL_CA_BUNDLE=$ca SSL_CERT_FILE=$ca HTTP_TRUSTED_PROXIES=127.0.0.1
front="https://127.0.0.1:$https"
SMOKE_PORT=$port SMOKE_FRONT=$front scripts/smoke.sh "$binary" && smoke=0 || smoke=$?
check "the smoke test passes through nginx (TLS)" test "$smoke" = 0

# 3. nginx's own promises, over a demo server.
LOG_FORMAT=json HTTP_PORT=$port "$binary" serve --demo --data-dir "$dir/data" >"$dir/serve.out" 2>"$dir/serve.log" &
pid=$!
deadline=$((SECONDS + 120))
until curl -sf "$front/ready" >/dev/null; do
    if [ $SECONDS -ge $deadline ] || ! kill -0 "$pid" 2>/dev/null; then cat "$dir/serve.log"; exit 1; fi
    sleep 0.2
done
header() {  # header NAME CURL-ARGS... -> the header's value (last response)
    local name=$1; shift
    curl -s -o /dev/null -D - "$@" | tr -d '\r' | awk -v n="$(echo "$name" | tr 'A-Z' 'a-z')" -F': ' 'tolower($1) == n { v = $2 } END { print v }'
}
check "plain HTTP redirects to HTTPS" test "$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "http://127.0.0.1:$http/health")" = \
    "301 https://127.0.0.1/health"
check "HTTP/2 over TLS" test "$(curl -s -o /dev/null --http2 -w '%{http_version}' "$front/health")" = 2
check "HSTS on every answer" test -n "$(header Strict-Transport-Security "$front/v1/nope")"
check "frames refused" test "$(header X-Frame-Options "$front/health")" = DENY
check "no referrer" test "$(header Referrer-Policy "$front/docs")" = no-referrer
check "nginx hides its version" test "$(header Server "$front/health")" = nginx
check "JSON is gzipped" test "$(header Content-Encoding -H 'Accept-Encoding: gzip' "$front/v1/directory/experts?limit=20")" = gzip
url="$front/v1/directory/experts?q=bois&limit=5"
first=$(header X-Cache-Status "$url")
check "a public directory answer is cached (then $first, HIT)" test "$(header X-Cache-Status "$url")" = HIT
check "a signed-in request is never served from the cache" test "$(header X-Cache-Status -H 'Authorization: Bearer x' "$url")" != HIT
id=$(header X-Request-Id -H 'X-Request-Id: deploy-test-42' "$front/v1/missions")
check "the client's request id passes through" test "$id" = deploy-test-42
check "mdp logs the same request id" grep -q '"request_id":"deploy-test-42"' "$dir/serve.log"
made=$(header X-Request-Id "$front/health")
check "nginx makes an id when there is none, and mdp logs it" grep -q "\"request_id\":\"$made\"" "$dir/serve.log"
check "nginx logs it too" grep -q "request_id=$made" "$dir/nginx/log/access.log"
codes=""
for _ in $(seq 1 25); do
    codes="$codes $(curl -s -o /dev/null -w '%{http_code}' -X POST "$front/v1/auth/token" -H 'Content-Type: application/json' \
        -d '{"email":"nobody@example.fr","password":"wrong password"}')"
done
check "logins from one address are rate limited (429)" grep -q 429 <<<"$codes"
refused=$(curl -s -D - -X POST "$front/v1/auth/token" -H 'Content-Type: application/json' -d '{}' | tr -d '\r')
# is_problem STATUS CODE RETRY_AFTER < "headers, blank line, body": nginx's own answer reads like mdp's problem documents.
is_problem() {
    python3 -c '
import json, sys
status, code, retry = sys.argv[1:4]
head, _, body = sys.stdin.read().partition("\n\n")
headers = {line.split(": ", 1)[0].lower(): line.split(": ", 1)[1] for line in head.splitlines()[1:] if ": " in line}
problem = json.loads(body)
assert head.split()[1] == status and headers["content-type"] == "application/problem+json", head
assert problem["code"] == code and problem["request_id"] == headers["x-request-id"] and headers["retry-after"] == retry
assert headers["strict-transport-security"].startswith("max-age=") and headers["x-frame-options"] == "DENY"
' "$@"
}
check "nginx's 429 is a problem document with Retry-After and the request id" is_problem 429 too_many_attempts 60 <<<"$refused"
check "reading cards is not rate limited" test "$(for _ in $(seq 1 25); do curl -s -o /dev/null -w '%{http_code}\n' "$front/v1/experts"; done | grep -c 429)" = 0
check "sign-ups from one address are rate limited (429)" grep -q 429 <<<"$(for _ in $(seq 1 25); do
    curl -s -o /dev/null -w '%{http_code} ' -X POST "$front/v1/experts" -H 'Content-Type: application/json' -d '{}'; done)"
too_big=$(python3 - "$https" "$ca" <<'PY'
import socket, ssl, sys
context = ssl.create_default_context(cafile=sys.argv[2])
with context.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1]))), server_hostname="127.0.0.1") as s:
    s.sendall(b"POST /v1/laureates/x/documents?kind=application&file_name=a.pdf HTTP/1.1\r\nHost: 127.0.0.1\r\n"
              b"Content-Type: application/octet-stream\r\nContent-Length: 60000000\r\n\r\n")
    print(s.recv(100).decode(errors="replace").split(" ")[1])
PY
)
check "a body above DOCUMENTS_MAX_BYTES stops at nginx (413)" test "$too_big" = 413
check "sign-ups with a trailing slash are limited too (429)" grep -q 429 <<<"$(for _ in $(seq 1 25); do
    curl -s -o /dev/null -w '%{http_code} ' -X POST "$front/v1/experts/" -H 'Content-Type: application/json' -d '{}'; done)"
check "metrics are refused to another address, with or without a trailing slash" test \
    "$(curl -s -o /dev/null -w '%{http_code}' --interface 127.0.0.2 "$front/metrics") $(curl -s -o /dev/null -w '%{http_code}' --interface 127.0.0.2 "$front/metrics/")" = "403 403"
check "metrics answer the machine itself" test "$(curl -s -o /dev/null -w '%{http_code}' "$front/metrics")" = 200
# 4. With no instance left, nginx answers like mdp: a problem document saying what to do, not an HTML page.
kill "$pid" && wait "$pid" 2>/dev/null
pid=""
gone=$(curl -s -D - -X POST "$front/v1/missions" -H 'Content-Type: application/json' -d '{}' | tr -d '\r')
check "with no instance, nginx's answer is a problem document with Retry-After" is_problem 503 no_instance 5 <<<"$gone"
echo "deploy: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
