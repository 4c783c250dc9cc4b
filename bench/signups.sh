#!/usr/bin/env bash
# /v1/taxonomy p99 (wrk -t1 -c16 -d10s) on an empty database, alone then while 16 clients sign up as fast as they can
# (one bcrypt hash each). Prints "alone p99 | with sign-ups p99 | sign-ups done". Usage: bench/signups.sh BINARY
# (compare two builds by running it on each; bench/load.sh runs the same measure on the current build).
set -euo pipefail
binary=$1
data=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
AUTH_SIGNUPS_PER_ADDRESS=100000 "$binary" serve --port "$port" --data-dir "$data" >"$data/serve.log" 2>&1 &
pid=$!
trap 'kill -9 $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$data"' EXIT
base="http://127.0.0.1:$port"
until curl -sf "$base/health" >/dev/null; do sleep 0.1; done
tax() { wrk -t1 -c16 -d10s --latency "$base/v1/taxonomy" | awk '$1 == "99%" {print $2}'; }
alone=$(tax)
loop() { local n=0; while [ -f "$data/go" ]; do n=$((n+1)); curl -s -o /dev/null -m 30 -X POST "$base/v1/experts" -H 'Content-Type: application/json' -d "{\"email\":\"c-$1-$n@example.fr\",\"password\":\"un mot de passe de charge\",\"first_name\":\"C\",\"last_name\":\"$1\"}"; done; echo $n > "$data/n-$1"; }
touch "$data/go"; for i in $(seq 16); do loop $i & done; sleep 1
busy=$(tax)
rm -f "$data/go"; wait $(jobs -p | grep -v "^$pid$") 2>/dev/null || true
echo "$alone | $busy | $(cat "$data"/n-* | awk '{s+=$1} END {print s}')"
