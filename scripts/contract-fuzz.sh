#!/usr/bin/env bash
# Contract fuzzing of the real `mdp serve` binary with Schemathesis.
#
#   scripts/contract-fuzz.sh path/to/mdp
#
# Starts `mdp serve --demo` on a free port over a throwaway data folder (programme day 2024-03-15), polls /health
# with a deadline, logs in the demo admin, expert and laureate member (demo-logins.txt), then runs Schemathesis
# against the served contract (/openapi.yaml) once anonymously and once per role with `Authorization: Bearer`.
# Path parameters, If-Match and a few body ids are drawn partly from real demo ids (per role) so the fuzzer gets
# past the 404s, and some headers/fields from a small dictionary of hostile values (boundary `Range`s, U+0000 in
# names and titles). `DELETE /v1/auth/token` (it revokes the token it is given) runs last, alone, with its own
# throwaway token. After every run the server must still be alive; if it died, the crash and the requests just
# before it are printed and a fresh server is started for the remaining runs. The server is always stopped.
# Exits non-zero on any failure, error or crash; the last line is a one-line summary.
#
# Knobs (environment): MAX_EXAMPLES (10), SEED (20240315), WORKERS (1), REQUEST_TIMEOUT (10 s),
# CHECKS (the four below plus response_headers_conformance), FUZZ_OUT (folder kept for reports; default: a temp
# folder, removed at the end unless something failed), SCHEMATHESIS_VERSION (4.32.5).
set -euo pipefail

binary=${1:?usage: contract-fuzz.sh path/to/mdp}
[ -x "$binary" ] || { echo "contract-fuzz: $binary is not executable" >&2; exit 2; }
binary=$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")

st_version=${SCHEMATHESIS_VERSION:-4.32.5}
max_examples=${MAX_EXAMPLES:-10}
seed=${SEED:-20240315}
workers=${WORKERS:-1}
request_timeout=${REQUEST_TIMEOUT:-10}
checks=${CHECKS:-not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance}
started=$SECONDS

# Schemathesis, pinned (4.x CLI: --checks, --seed (3.x: --hypothesis-seed), --max-examples, --request-timeout).
if ! python3 -c "import importlib.metadata as m, sys; sys.exit(m.version('schemathesis') != '$st_version')" 2>/dev/null; then
    echo "contract-fuzz: installing schemathesis==$st_version"
    python3 -m pip install -q "schemathesis==$st_version"
fi

work=$(mktemp -d)
out=${FUZZ_OUT:-$work/reports}
mkdir -p "$out"
pid= base= data= log= generation=0
declare -A token

stop_server() {
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
    fi
    if [ -n "$pid" ]; then wait "$pid" 2>/dev/null || true; fi
    pid=
}
keep=0 fuzzer=
cleanup() {
    local rc=$?
    if [ -n "$fuzzer" ]; then kill "$fuzzer" 2>/dev/null || true; wait "$fuzzer" 2>/dev/null || true; fi
    stop_server
    # Reports stay (in FUZZ_OUT, or in the temp folder when something failed); server data never does.
    if [ -n "${FUZZ_OUT:-}" ] || { [ "$keep" -eq 0 ] && [ "$rc" -eq 0 ]; }; then rm -rf "$work"; else rm -rf "$work"/data-*; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_server() {  # a fresh server over a fresh demo folder; sets pid, base, data, log and the tokens
    generation=$((generation + 1))
    data="$work/data-$generation"
    log="$out/serve-$generation.log"
    : >"$log"
    # --port 0: the server picks a free port and prints it in its banner (no race with another process).
    PROGRAMME_TODAY=${PROGRAMME_TODAY:-2024-03-15} "$binary" serve --demo --host 127.0.0.1 --port 0 --data-dir "$data" \
        >"$log" 2>&1 &
    pid=$!
    base=
    local deadline=$((SECONDS + 120))
    while :; do
        if ! kill -0 "$pid" 2>/dev/null; then echo "contract-fuzz: mdp serve exited during start-up" >&2; cat "$log" >&2; exit 1; fi
        if [ $SECONDS -ge $deadline ]; then echo "contract-fuzz: mdp serve not healthy after 120 s" >&2; cat "$log" >&2; exit 1; fi
        if [ -z "$base" ]; then base=$(grep -o -m1 'serving on http://[0-9.]*:[0-9]*' "$log" | sed 's/serving on //' || true); fi
        if [ -n "$base" ] && curl -sf --max-time 2 "$base/health" >/dev/null; then break; fi
        sleep 0.2
    done
    echo "contract-fuzz: mdp serve (pid $pid) healthy at $base"

    # Every token is taken before any fuzzing: the anonymous run's bad logins trip the per-address limit (429).
    token=()
    local role email password
    while read -r role email password; do
        case $role in admin|expert|laureate) ;; *) continue;; esac
        if [ -z "${token[$role]:-}" ]; then token[$role]=$(login "$email" "$password"); fi
        if [ "$role" = admin ] && [ -z "${token[revoke]:-}" ]; then token[revoke]=$(login "$email" "$password"); fi
    done < "$data/demo-logins.txt"
    for role in admin expert laureate revoke; do
        [ -n "${token[$role]:-}" ] || { echo "contract-fuzz: no $role login in demo-logins.txt" >&2; exit 1; }
    done
    write_configs
}

login() {  # login EMAIL PASSWORD -> token
    curl -sf --max-time 10 -X POST "$base/v1/auth/token" -H 'Content-Type: application/json' \
        -d "$(python3 -c 'import json,sys; print(json.dumps({"email": sys.argv[1], "password": sys.argv[2]}))' "$1" "$2")" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}

write_configs() {  # one Schemathesis config per role: real ids the role may (and may not) reach, hostile values
    python3 - "$base" "$out" "${token[admin]}" "${token[expert]}" "${token[laureate]}" <<'PY'
import json, sys, urllib.request, urllib.error
base, out, tokens = sys.argv[1], sys.argv[2], dict(zip(["admin", "expert", "laureate"], sys.argv[3:6]))

def get(path, tok):
    req = urllib.request.Request(base + path, headers={"Authorization": "Bearer " + tok} if tok else {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            body = r.read()
            is_json = "json" in (r.headers.get("Content-Type") or "")
            return (json.loads(body) if is_json else None), r.headers.get("ETag")
    except urllib.error.HTTPError:
        return None, None

def items(path, tok):
    return (get(path, tok)[0] or {}).get("items", [])

def uniq(xs):
    return [x for i, x in enumerate(xs) if x and x not in xs[:i]]

adm = tokens["admin"]
laureates = [l["id"] for l in items("/v1/laureates", adm)]
missions = [m["id"] for m in items("/v1/missions?limit=30", adm)]
documents = [d["id"] for d in items("/v1/documents?limit=30", adm)]
experts = [e["id"] for e in items("/v1/experts?state=published&limit=5", adm)]
slugs = [e["slug"] for e in items("/v1/directory/experts?limit=3", None)]
me = {r: get("/v1/me", t)[0] for r, t in tokens.items()}
own_e, own_l = me["expert"]["expert_id"], me["laureate"]["laureate_id"]
lt, et = tokens["laureate"], tokens["expert"]

pools = {
    "anonymous": {"laureate": laureates[:3], "mission": missions[::10][:3], "document": documents[:3],
                  "expert": experts[:3], "slug": slugs},
    "admin": {"laureate": laureates[:4], "mission": missions[::6][:5], "document": documents[::6][:5],
              "expert": uniq([own_e] + experts[:3]), "slug": slugs},
    "laureate": {"laureate": uniq([own_l, laureates[0]]),
                 "mission": uniq([m["id"] for m in items("/v1/missions?limit=5", lt)] + missions[:1]),
                 "document": uniq([d["id"] for d in items("/v1/documents?limit=5", lt)] + documents[-1:]),
                 "expert": uniq([own_e] + experts[:2]), "slug": slugs},
    "expert": {"laureate": uniq([m["participants"][0]["laureate_id"] for m in items("/v1/missions?limit=5", et)] + laureates[:1]),
               "mission": uniq([m["id"] for m in items("/v1/missions?limit=5", et)] + missions[:1]),
               "document": uniq([d["id"] for d in items("/v1/documents?limit=5", et)] + documents[:1]),
               "expert": uniq([own_e] + experts[:1]), "slug": slugs},
}
paths = {"laureate": ["/v1/laureates/%s", "/v1/laureates/%s/budget"], "mission": ["/v1/missions/%s"],
         "document": ["/v1/documents/%s", "/v1/documents/%s/content"], "expert": ["/v1/experts/%s"]}
hostile = {
    # Boundary byte ranges: Int64.max ends, suffixes, overflowing numbers, several ranges.
    "range": ["bytes=0-9223372036854775807", "bytes=1-9223372036854775807", "bytes=9223372036854775807-",
              "bytes=-9223372036854775807", "bytes=0-99999999999999999999", "bytes=-0", "bytes=0-0", "bytes=5-2",
              "bytes=0-0,2-3"],
    # Version 1 exists for every document: an absent or random version would hide the Range handling behind a 404.
    "version": [1],
    # U+0000 in names and titles (SQLite text bound as C strings stops at the first NUL).
    "text": ["\u0000", "a\u0000b", "Titre \u0000 nul"],
    # Real subtheme codes, so that bodies which carry a title or a name also pass validation now and then.
    "subtheme": ["1.1", "2.1", "5.2", "12.3"],
}

def toml_list(xs):
    return "[" + ", ".join(json.dumps(x) for x in xs) + "]"

for role, pool in pools.items():
    tok = tokens.get(role, adm)
    etags = []
    for kind, ids in pool.items():
        for i in ids if kind in paths else []:
            for p in paths[kind]:
                etags.append(get(p % i, tok)[1])
    pool["etag"] = uniq(etags) or ['"r1"']
    pool.update(hostile)
    lines = ["# generated by contract-fuzz.sh for role %s" % role]
    for kind, values in pool.items():
        lines += ["[dictionaries.%s]" % kind, "values = %s" % toml_list(values or ["00000000-0000-0000-0000-000000000000"])]
    lines += ["[parameters]"]
    bindings = {"path.laureate_id": ("laureate", 0.7), "path.mission_id": ("mission", 0.7),
                "path.document_id": ("document", 0.7), "path.expert_id": ("expert", 0.7), "path.slug": ("slug", 0.7),
                "header.If-Match": ("etag", 0.6), "header.Range": ("range", 0.6), "query.version": ("version", 0.9),
                "body.expert_id": ("expert", 0.5), "body.laureate_id": ("laureate", 0.5),
                "body.laureate_ids[*]": ("laureate", 0.8), "body.document_id": ("document", 0.5),
                "body.subthemes[*]": ("subtheme", 0.8), "body.needs[*].subtheme": ("subtheme", 0.8)}
    for field in ["title", "name", "first_name", "last_name", "display_name", "reason", "comment", "summary"]:
        bindings["body." + field] = ("text", 0.35)
    for key, (dictionary, p) in bindings.items():
        lines.append('"%s" = { dictionary = "%s", probability = %s }' % (key, dictionary, p))
    with open("%s/%s.toml" % (out, role), "w") as f:
        f.write("\n".join(lines) + "\n")
PY
}

# Schemathesis draws Idempotency-Key from a handful of values ("", "0", "000…"); reused with other bodies they answer
# 422 idempotency_key_reused and hide everything behind it. In the fuzzing and stateful phases three keys in four are
# made unique (deterministically); the coverage phase keeps its keys, so key reuse itself is still exercised.
cat >"$out/hooks.py" <<'PY'
import itertools
import uuid

import schemathesis

_count = itertools.count()


@schemathesis.hook
def before_call(context, case, kwargs):
    phase = getattr(getattr(getattr(case, "meta", None), "phase", None), "name", None)
    if "coverage" in str(getattr(phase, "value", phase)).lower():
        return
    if case.headers and "Idempotency-Key" in case.headers:
        n = next(_count)
        if n % 4:
            case.headers["Idempotency-Key"] = str(uuid.uuid5(uuid.NAMESPACE_URL, "contract-fuzz/%d" % n))
PY
export SCHEMATHESIS_HOOKS="$out/hooks.py"

total_failures=0 crashes=0
declare -a summary=()
run() {  # run NAME ROLE EXTRA-ARGS...   (ROLE: anonymous, laureate, expert, admin or revoke)
    local name=$1 role=$2; shift 2
    local -a auth=()
    if [ "$role" != anonymous ]; then auth=(-H "Authorization: Bearer ${token[$role]}"); fi
    local cfg="$out/$role.toml"
    if [ ! -f "$cfg" ]; then cfg="$out/admin.toml"; fi
    echo "contract-fuzz: --- $name ---"
    local rc=0 t0=$SECONDS
    # In the background and waited for, so that Ctrl-C or TERM reach the traps at once (not after the run).
    timeout 180 python3 -m schemathesis.cli --config-file "$cfg" run "$base/openapi.yaml" "${auth[@]}" \
        --checks "$checks" --max-examples "$max_examples" --seed "$seed" --workers "$workers" \
        --request-timeout "$request_timeout" --generation-database none --no-color --output-sanitize false \
        --report ndjson,junit --report-ndjson-path "$out/$name.ndjson" --report-junit-path "$out/$name.junit.xml" \
        "$@" >"$out/$name.txt" 2>&1 &
    fuzzer=$!
    wait "$fuzzer" || rc=$?
    fuzzer=
    local last failures errors
    last=$(grep -E '^=+ .* =+$' "$out/$name.txt" | tail -1 || true)
    failures=$(grep -oE '[0-9]+ failures?' <<<"$last" | grep -oE '^[0-9]+' || echo 0)
    errors=$(grep -oE '[0-9]+ errors?' <<<"$last" | grep -oE '^[0-9]+' || echo 0)
    if [ "$rc" -ne 0 ] && [ "$failures" -eq 0 ] && [ "$errors" -eq 0 ]; then errors=1; fi  # crash, timeout, bad config
    grep -E '^(_{5,} |- ST|- Server error|- Undocumented|- Response|- Missing|- Network|- Connection)' "$out/$name.txt" |
        sed "s/^/  [$name] /" || true
    local verdict=alive
    if ! kill -0 "$pid" 2>/dev/null || ! curl -sf --max-time 5 "$base/health" >/dev/null; then
        verdict=DIED
        crashes=$((crashes + 1))
        for _ in $(seq 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done  # the backtrace takes seconds
        echo "contract-fuzz: SERVER DIED during the $name run. Crash (from $log):" >&2
        grep -m3 -E 'Swift runtime failure|Fatal error|Signal [0-9]+|crashed:' "$log" | sed 's/^/    /' >&2 || true
        awk '/crashed:/ {on=1; next} on && / in mdp at / && !/\.build\// {print "    " $0; if (++n == 3) exit}' "$log" >&2 || true
        echo "  last requests the server logged:" >&2
        grep -oE 'hb\.request\.method=[A-Z]+ hb\.request\.path=[^ ]+' "$log" | tail -3 | sed 's/^/    /' >&2 || true
        echo "  schemathesis' reproduction of the first request that got no answer (see ERRORS in $out/$name.txt):" >&2
        sed -n '/= ERRORS =/,/= \(FAILURES\|SUMMARY\) =/p' "$out/$name.txt" | grep -m1 -E '^ *curl ' | sed 's/^ */    /' >&2 || true
    fi
    echo "contract-fuzz: $name: rc=$rc, $failures failures, $errors errors, server $verdict, $((SECONDS - t0)) s (details: $out/$name.txt)"
    if [ "$verdict" = DIED ]; then summary+=("$name=$((failures + errors))+CRASH"); else summary+=("$name=$((failures + errors))"); fi
    total_failures=$((total_failures + failures + errors))
    if [ "$verdict" = DIED ]; then stop_server; start_server; fi
}

start_server
for role in anonymous laureate expert admin; do
    run "$role" "$role" --exclude-operation-id revokeSessionToken --exclude-operation-id downloadDocument
    # Downloads (Range, version) on their own, so that a crash there does not hide what the other operations do.
    run "$role-content" "$role" --include-operation-id downloadDocument
done
# DELETE /v1/auth/token revokes the token it carries: alone, last, with its own throwaway admin token.
run revoke revoke --include-operation-id revokeSessionToken
stop_server

kept=
if [ "$total_failures" -ne 0 ] || [ "$crashes" -ne 0 ]; then keep=1; kept="; reports kept in $out"; fi
echo "contract-fuzz: SUMMARY schemathesis $st_version, seed $seed, max-examples $max_examples:" \
    "${summary[*]} (failures+errors per run); total $total_failures; server crashes $crashes; $((SECONDS - started)) s$kept"
[ "$total_failures" -eq 0 ] && [ "$crashes" -eq 0 ]
