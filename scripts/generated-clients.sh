#!/usr/bin/env bash
# Third-party generators take the contract as it is (issue 11):
#   - openapi-generator (PyPI openapi-generator-cli, Java) makes a TypeScript client (typescript-fetch) with its
#     validation of the contract on, and Debian's tsc compiles it;
#   - openapi-python-client makes a Python client, installed in a throwaway venv, that walks the programme's story
#     (scripts/client-story.py) against a live `mdp serve --demo`.
#   scripts/generated-clients.sh path/to/mdp
# The server is started on a free port over a throwaway data folder, polled on /health with a deadline, and stopped.
set -euo pipefail
binary=${1:?usage: generated-clients.sh path/to/mdp}
binary=$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/mdp-clients.XXXXXX)
server=
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

echo "generated-clients: TypeScript (openapi-generator typescript-fetch, validation on)"
openapi-generator-cli generate -i "$root/openapi.yaml" -g typescript-fetch -o "$work/ts" >"$work/ts.log" 2>&1 \
    || { cat "$work/ts.log"; exit 1; }
# Debian's tsc is 4.8; the generated guards narrow with `in`, which only 4.9 types without implicit any: strict but
# noImplicitAny off.
cat >"$work/ts/tsconfig.json" <<'JSON'
{
  "compilerOptions": { "target": "ES2019", "module": "commonjs", "lib": ["ES2019", "DOM"], "strict": true,
                       "noImplicitAny": false, "noEmit": true, "skipLibCheck": true },
  "include": ["*.ts", "apis/*.ts", "models/*.ts"]
}
JSON
tsc -p "$work/ts"
echo "generated-clients: TypeScript client compiled ($(ls "$work/ts/models" | wc -l) models)"

echo "generated-clients: Python (openapi-python-client)"
openapi-python-client generate --path "$root/openapi.yaml" --output-path "$work/py" --config "$root/scripts/python-client.yaml" \
    >"$work/py.log" 2>&1 || { cat "$work/py.log"; exit 1; }
if grep -qi "warning" "$work/py.log"; then cat "$work/py.log"; echo "generated-clients: the Python generator warned" >&2; exit 1; fi
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q "$work/py"

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
PROGRAMME_TODAY=2024-03-15 "$binary" serve --demo --port "$port" --data-dir "$work/data" >"$work/serve.log" 2>&1 &
server=$!
deadline=$((SECONDS + 60))
until curl -sf "http://127.0.0.1:$port/health" >/dev/null; do
    kill -0 "$server" 2>/dev/null || { cat "$work/serve.log"; echo "generated-clients: mdp serve exited" >&2; exit 1; }
    [ $SECONDS -lt $deadline ] || { echo "generated-clients: mdp serve did not become healthy" >&2; exit 1; }
    sleep 0.2
done
"$work/venv/bin/python" "$root/scripts/client-story.py" "http://127.0.0.1:$port" "$work/data/demo-logins.txt"
