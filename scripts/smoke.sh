#!/usr/bin/env bash
# Starts the real `mdp serve` binary on a free port over a throwaway data folder, polls /health with a deadline,
# checks the reference endpoints and a problem document, then stops it. Prints "N passed, N failed".
# SMOKE_PORT fixes the port and SMOKE_FRONT sends the HTTP checks through a proxy in front of it (deploy-test.sh runs
# them through deploy/nginx/mdp.conf); the checks that need raw sockets go to the server itself.
set -u
binary=${1:?usage: smoke.sh path/to/mdp}
data=$(mktemp -d)
log="$data/serve.log"
port=${SMOKE_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')}
HTTP_PORT=$port "$binary" serve --demo --data-dir "$data/data" >"$log" 2>&1 &
pid=$!
cleanup() { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$data"; }
trap cleanup EXIT

direct="http://127.0.0.1:$port"
base=${SMOKE_FRONT:-$direct}
deadline=$((SECONDS + 120))
until curl -sf "$base/health" >/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null || [ $SECONDS -ge $deadline ]; then
        echo "smoke: mdp serve did not become healthy"; cat "$log"; echo "0 passed, 1 failed"; exit 1
    fi
    sleep 0.1
done

passed=0 failed=0
check() {  # check NAME COMMAND...
    if "${@:2}"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "smoke: FAILED $1"; fi
}
count() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
check "taxonomy has 37 subthemes" test "$(curl -sf "$base/v1/taxonomy" | count 'sum(len(t["subthemes"]) for t in d["themes"])')" = 37
check "territories has 101 départements" test "$(curl -sf "$base/v1/territories" | count 'sum(len(r["departments"]) for r in d["regions"])')" = 101
check "unknown path is a problem" test "$(curl -s -o /dev/null -w '%{http_code} %{content_type}' "$base/v1/nope")" = "404 application/problem+json"
check "banner prints the URLs" grep -q "$direct/docs" "$log"
check "database file created" test -f "$data/data/mdp.sqlite"
check "demo directory is filled" test "$(curl -sf "$base/v1/directory/experts?limit=1" | count 'd["total"] > 200')" = True
check "demo logins kept private" test "$(stat -c %a "$data/data/demo-logins.txt")" = 600
login() {  # login EMAIL PASSWORD -> HTTP status
    curl -s -o /dev/null -w '%{http_code}' -X POST "$base/v1/auth/token" -H 'Content-Type: application/json' \
        -d "{\"email\":\"$1\",\"password\":\"$2\"}"
}
read -r _ demo_email demo_password < "$data/data/demo-logins.txt"
check "demo admin logs in" test "$(login "$demo_email" "$demo_password")" = 201
printf 'a long smoke password\n' | "$binary" admin create --email ops@example.fr --data-dir "$data/data" >/dev/null
check "mdp admin create reads the password from stdin" test "$(login ops@example.fr 'a long smoke password')" = 201
check "a wrong password is 401" test "$(login ops@example.fr 'not the password')" = 401
check "mdp audit verify accepts the demo's chain" "$binary" audit verify --data-dir "$data/data"
sync_token=$("$binary" admin token --role sync --data-dir "$data/data")
check "a sync token reads the documents feed" test "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $sync_token" "$base/v1/documents?limit=1")" = 200
check "a request killed half-way is free to retry after a restart" python3 scripts/crash-retry.py "$binary"
check "a notice committed before kill -9 is e-mailed after the restart" python3 scripts/notify-crash.py "$binary"
check "a backup under write load restores whole; SIGTERM mid-upload loses nothing" python3 scripts/ops-test.py "$binary"
# An upload whose body is not valid HTTP (a broken chunk size, or fewer bytes than announced, then a half-close) is the
# client's fault: 400, not 500.
malformed() {  # malformed HEADER BODY -> the status code of a dossier upload sent that way by the demo admin
    python3 - "$port" "$demo_email" "$demo_password" "$1" "$2" <<'PY'
import json, socket, sys, urllib.request
port, email, password, header, body = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5].replace("|", "\r\n")
base = f"http://127.0.0.1:{port}"
def get(path, token=None, data=None):
    request = urllib.request.Request(base + path, data=data, headers={"Content-Type": "application/json"})
    if token:
        request.add_header("Authorization", "Bearer " + token)
    return json.load(urllib.request.urlopen(request))
token = get("/v1/auth/token", data=json.dumps({"email": email, "password": password}).encode())["token"]
laureate = get("/v1/laureates?limit=1", token)["items"][0]["id"]
s = socket.create_connection(("127.0.0.1", port), timeout=10)
s.sendall((f"POST /v1/laureates/{laureate}/documents?kind=application&file_name=x.txt HTTP/1.1\r\nHost: x\r\n"
           f"Authorization: Bearer {token}\r\nContent-Type: application/octet-stream\r\n{header}\r\n\r\n{body}").encode())
s.shutdown(socket.SHUT_WR)
print(s.recv(200).decode(errors="replace").split(" ")[1])
PY
}
check "a broken chunked upload is 400" test "$(malformed 'Transfer-Encoding: chunked' 'zz|abc|0||')" = 400
check "an upload shorter than announced is 400" test "$(malformed 'Content-Length: 1000' 'hello')" = 400
echo "smoke: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
