#!/usr/bin/env bash
# Load benchmark: a release `mdp serve --demo` under wrk with many connections on a mix of the programme's traffic
# (bench/load.lua), then the checks an operator cares about: no 5xx, no socket errors, no hang (/health answers at
# once afterwards), memory back within 20 % of what it was after warm-up, SIGTERM ends the process within 10 s.
# A second part times /v1/taxonomy while 16 sign-ups (bcrypt) run in parallel. Figures go to bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
duration=${DURATION:-60s}
connections=${CONNECTIONS:-256}
threads=${THREADS:-2}

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
swift build -c release --product mdp --scratch-path .build-bench >/dev/null
binary=${MDP_BINARY:-.build-bench/release/mdp}

data=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
AUTH_SIGNUPS_PER_ADDRESS=100000 "$binary" serve --demo --port "$port" --data-dir "$data" >"$data/serve.log" 2>&1 &
pid=$!
trap 'kill -9 $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$data"' EXIT
base="http://127.0.0.1:$port"
deadline=$((SECONDS + 300))
until curl -sf "$base/health" >/dev/null; do
    [ $SECONDS -lt $deadline ] && kill -0 "$pid" 2>/dev/null || { cat "$data/serve.log"; exit 1; }
    sleep 0.2
done

login() {  # login ROLE -> token
    local email password
    read -r _ email password < <(grep "^$1 " "$data/demo-logins.txt")
    curl -sf -X POST "$base/v1/auth/token" -H 'Content-Type: application/json' \
        -d "{\"email\":\"$email\",\"password\":\"$password\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}
laureate=$(login laureate)
expert=$(login expert)
admin=$(login admin)
read -r _ laureate_email laureate_password < <(grep "^laureate " "$data/demo-logins.txt")
laureate_id=$(curl -sf "$base/v1/me" -H "Authorization: Bearer $laureate" | python3 -c 'import json,sys; print(json.load(sys.stdin)["laureate_id"])')
mission=$(curl -sf "$base/v1/missions?limit=100" -H "Authorization: Bearer $laureate" | python3 -c '
import json, sys
items = json.load(sys.stdin)["items"]
live = [m for m in items if m["state"] in ("scoping", "proposed", "accepted", "reported", "requested")]
print((live or items)[0]["id"])')
document=$(curl -sf "$base/v1/documents?updated_after=0&limit=100" -H "Authorization: Bearer $laureate" | python3 -c '
import json, sys; print(json.load(sys.stdin)["items"][0]["id"])')
args=("$laureate" "$expert" "$admin" "$laureate_id" "$mission" "$document" "$laureate_email" "$laureate_password")

rss() { awk '/VmRSS/ {print $2}' "/proc/$pid/status"; }
wrk -t"$threads" -c"$connections" -d10s -s bench/load.lua "$base" -- "${args[@]}" >"$data/warmup.txt"
rss_warm=$(rss)
out=$(wrk -t"$threads" -c"$connections" -d"$duration" --timeout 10s --latency -s bench/load.lua "$base" -- "${args[@]}")
echo "$out" >"$data/load.txt"
rss_end=$(rss)
rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
answers=$(grep '^ANSWERS' <<<"$out" | sed 's/^ANSWERS //')
failed=$(sed 's/.*failed=\([0-9]*\).*/\1/' <<<"$answers")
sockets=$(sed 's/.*socket_errors=\([0-9]*\).*/\1/' <<<"$answers")
health_ms=$(curl -s -o /dev/null -m 5 -w '%{time_total}' "$base/health" | python3 -c 'import sys; print(f"{float(sys.stdin.read()) * 1000:.1f}")')
growth=$(python3 -c "print(f'{($rss_end - $rss_warm) / $rss_warm * 100:+.1f} %')")

# /v1/taxonomy alone, then while 16 clients sign up (one bcrypt hash each) as fast as they can.
tax() { wrk -t1 -c16 -d10s --latency "$base/v1/taxonomy" | awk '$1 == "99%" {print $2}'; }
tax_idle=$(tax)
signup_loop() {
    local n=0
    while [ -f "$data/signing" ]; do
        n=$((n + 1))
        curl -s -o /dev/null -X POST "$base/v1/experts" -H 'Content-Type: application/json' \
            -d "{\"email\":\"charge-$1-$n@example.fr\",\"password\":\"un mot de passe de charge\",\"first_name\":\"C\",\"last_name\":\"$1\"}"
    done
    echo "$n" >"$data/signups-$1"
}
touch "$data/signing"
for i in $(seq 16); do signup_loop "$i" & done
sleep 1
tax_signups=$(tax)
rm -f "$data/signing"
wait $(jobs -p | grep -v "^$pid$") 2>/dev/null || true
signups=$(cat "$data"/signups-* | awk '{s += $1} END {print s}')

# SIGTERM ends the process within 10 s.
start=$(date +%s.%N)
kill -TERM "$pid"
ended=no
for _ in $(seq 100); do
    if ! kill -0 "$pid" 2>/dev/null; then ended=yes; break; fi
    sleep 0.1
done
stop_s=$(python3 -c "import time; print(f'{time.time() - $start:.1f}')")

section=$(cat <<SECTION
<!-- load:start -->
## Load (\`bench/load.sh\`)

$(date -u +%Y-%m-%d), release build, demo data, wrk -t$threads -c$connections -d$duration on the same $(nproc)-core machine as the
server, with \`bench/load.lua\`: directory searches, reference data, logins (bcrypt), a laureate's and an expert's
missions, a budget, the documents feed, downloads, framing-note revisions, transitions refused by the rules, small
uploads. Targets: no 5xx, no socket error, no hang, memory at the end within 20 % of memory after warm-up, SIGTERM
ends the process within 10 s.

| measure | value |
|---|---|
| requests/s | $rps |
| latency p50 / p99 | $p50 / $p99 |
| answers | $answers |
| /health right after the load | $health_ms ms |
| RSS after warm-up → at the end | $((rss_warm / 1024)) MiB → $((rss_end / 1024)) MiB ($growth) |
| SIGTERM to exit | $stop_s s (ended: $ended) |
| \`/v1/taxonomy\` p99, 16 connections, alone | $tax_idle |
| \`/v1/taxonomy\` p99, 16 connections, while 16 clients sign up ($signups sign-ups in 10 s) | $tax_signups |

Logins and sign-ups hash with bcrypt (cost 11, ~0.15 s of one core each): in this mix one request in 40 is a login,
which alone keeps most of the 2 cores busy and bounds the throughput and latency of everything queued behind it (a
closed loop of 256 connections). That work runs on the blocking pool, at most one hash per core at a time, never on
Swift concurrency's threads or NIO's event loops: the reference data keeps answering in milliseconds while 16
clients sign up (last two rows), where before this change 8 concurrent authenticated clients froze the server.
<!-- load:end -->
SECTION
)
write_section load "$section"
echo "$section"
[ "$failed" = 0 ] && [ "$sockets" = 0 ] && [ "$ended" = yes ] || { echo "load: failures (see above)" >&2; exit 1; }
