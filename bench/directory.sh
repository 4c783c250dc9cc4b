#!/usr/bin/env bash
# Directory benchmark: wrk against a release `mdp serve --demo` on this machine, /health as the reference in the
# same run. Writes the figures into bench/README.md between the directory markers.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
duration=${DURATION:-10s}
connections=${CONNECTIONS:-64}
threads=${THREADS:-2}

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
swift build -c release --product mdp --scratch-path .build-bench >/dev/null
binary=.build-bench/release/mdp

data=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
"$binary" serve --demo --port "$port" --data-dir "$data" >"$data/serve.log" 2>&1 &
pid=$!
# A second instance without the response cache, over its own copy of the demo data (a data folder is one server's):
# what a query costs when it is not cached.
port2=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
pid2=""
data2=$(mktemp -d)
trap 'set +e; kill $pid $pid2 2>/dev/null; wait $pid $pid2 2>/dev/null; rm -rf "$data" "$data2"' EXIT
wait_healthy() {  # wait_healthy PORT PID
    local deadline=$((SECONDS + 120))
    until curl -sf "http://127.0.0.1:$1/health" >/dev/null; do
        [ $SECONDS -lt $deadline ] && kill -0 "$2" 2>/dev/null || { cat "$data/serve.log"; exit 1; }
        sleep 0.1
    done
}
wait_healthy "$port" "$pid"
HTTP_DIRECTORY_CACHE=false "$binary" serve --demo --port "$port2" --data-dir "$data2" >"$data/serve2.log" 2>&1 &
pid2=$!
wait_healthy "$port2" "$pid2"

declare -A paths=(
    [health]="/health"
    [filtered]="/v1/directory/experts?subtheme=4.2&region=84"
    [fulltext]="/v1/directory/experts?q=bois"
    [filtered_uncached]="/v1/directory/experts?subtheme=4.2&region=84"
    [fulltext_uncached]="/v1/directory/experts?q=bois"
)
names="health filtered fulltext filtered_uncached fulltext_uncached"
declare -A rps p50 p99
for name in $names; do
    target=$port
    case $name in *_uncached) target=$port2 ;; esac
    url="http://127.0.0.1:$target${paths[$name]}"
    curl -sf "$url" >/dev/null
    wrk -t"$threads" -c"$connections" -d2s "$url" >/dev/null  # warm up
    out=$(wrk -t"$threads" -c"$connections" -d"$duration" --latency "$url")
    rps[$name]=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    p50[$name]=$(awk '$1 == "50%" {print $2}' <<<"$out")
    p99[$name]=$(awk '$1 == "99%" {print $2}' <<<"$out")
    errors=$(awk '/Non-2xx|Socket errors/' <<<"$out")
    [ -z "$errors" ] || echo "$name: $errors" >&2
done

ratio() { python3 -c "print(f'{$1 / $2 * 100:.0f} %')"; }
table=$(
    echo "| endpoint | requests/s | p50 | p99 | vs /health |"
    echo "|---|---|---|---|---|"
    for name in $names; do
        label="\`${paths[$name]}\`"
        case $name in *_uncached) label="$label (no response cache)" ;; esac
        echo "| $label | ${rps[$name]} | ${p50[$name]} | ${p99[$name]} | $(ratio "${rps[$name]}" "${rps[health]}") |"
    done
)
experts=$(curl -sf "http://127.0.0.1:$port/v1/directory/experts?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')
section=$(cat <<SECTION
<!-- directory:start -->
## Directory (\`bench/directory.sh\`)

$(date -u +%Y-%m-%d), release build, wrk -t$threads -c$connections -d$duration on the same $(nproc)-core machine as the server,
demo data ($experts published experts). Target: the filtered query at ≥ 50 % of /health's throughput, p99 < 10 ms.
/health reads the database (readiness); the directory reads none: it answers from the in-memory index, and repeated
queries from the response cache that a card write invalidates. The "no response cache" rows come from a second
instance started with \`HTTP_DIRECTORY_CACHE=false\` over its own copy of the demo data: the cost of a query seen for
the first time.

$table
<!-- directory:end -->
SECTION
)
write_section directory "$section"
echo "$table"
