#!/usr/bin/env bash
# Sync benchmark: `mdp sync` (release) and rclone, the peer, against the same Apache mod_dav server in the same run.
# Writes the figures into bench/README.md between the sync markers. Sizes: FILES (first push, default 1000 × 100 KB),
# MANY (no-change rerun, default 10000 small files), EDITS (same-size edits, default 100), BIG_MB (default 1024).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
FILES=${FILES:-1000}; MANY=${MANY:-10000}; EDITS=${EDITS:-100}; BIG_MB=${BIG_MB:-1024}
command -v rclone >/dev/null && command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq rclone hyperfine; }
swift build -c release --product mdp --scratch-path .build-release >/dev/null
mdp=$PWD/.build-release/release/mdp

dir=$(mktemp -d); chmod 755 "$dir"
api_pid=""
trap '[ -n "$api_pid" ] && kill $api_pid; grep -h "^failed" "$dir/sync.log" 2>/dev/null | head -5 >&2; scripts/webdav-servers.sh stop "$dir"; rm -rf "$dir"; true' EXIT
line=$(scripts/webdav-servers.sh start "$dir" | tail -1)
dav=$(echo "$line" | sed 's/.*apache=//')
access="$dir/apache-logs/access.log"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
printf 'a long bench password\n' | "$mdp" admin create --email bench@bench.local --data-dir "$dir/api" >/dev/null
"$mdp" admin token --role sync --data-dir "$dir/api" >"$dir/sync-token"
DOCUMENTS_MAX_BYTES=$(( (BIG_MB + 1) << 20 )) HTTP_PORT=$port "$mdp" serve --data-dir "$dir/api" >"$dir/api.log" 2>&1 &
api_pid=$!
api="http://127.0.0.1:$port"
until curl -sf "$api/health" >/dev/null; do kill -0 $api_pid; sleep 0.1; done
token=$(curl -s -X POST "$api/v1/auth/token" -H 'Content-Type: application/json' \
    -d '{"email":"bench@bench.local","password":"a long bench password"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
laureate() {  # laureate NAME -> "id slug"
    curl -s -X POST "$api/v1/laureates" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
        -d "{\"name\":\"$1\",\"legal_entity\":\"x\",\"siret\":\"44306184100047\",\"commune_insee\":\"42218\",\"commune_name\":\"x\",\"department\":\"42\",\"territory_types\":[\"rural\"],\"cohort\":1,\"support_ceiling_cents\":1000000}" \
        | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["id"], d["slug"])'
}
upload_folder() {  # upload_folder LAUREATE_ID FOLDER: every file of FOLDER as an application document, 4 at a time
    ls "$2" | xargs -P 4 -I{} curl -s -o /dev/null -X POST "$api/v1/laureates/$1/documents?kind=application&file_name={}" \
        -H "Authorization: Bearer $token" -H 'Content-Type: application/octet-stream' --data-binary "@$2/{}"
}
sync_once() {  # sync_once ROOT JOURNAL: the summary on stdout; a run with failed files is logged, not fatal
    SYNC_API_URL=$api SYNC_API_TOKEN_FILE="$dir/sync-token" SYNC_WEBDAV_URL="$dav/$1" SYNC_JOURNAL="$2" "$mdp" sync once --force \
        2>>"$dir/sync.log" | tee -a "$dir/sync.log" || echo "mdp sync exited $? (see failures above)" >&2
}
seconds() { echo "$EPOCHREALTIME"; }  # the clock itself: no process started around the measure
requests_since() { echo $(( $(wc -l <"$access") - $1 )); }
rclone_remote=":webdav,url='$dav':"

# 1. First push of FILES × 100 KB: mdp from the API, rclone from a local folder with the same files.
mkdir -p "$dir/files"
python3 - "$dir/files" "$FILES" <<'PY'
import os, random, sys
folder, count = sys.argv[1], int(sys.argv[2])
random.seed(7)
for i in range(count):
    with open(os.path.join(folder, f"f{i:05d}.txt"), "w") as f:
        f.write("".join(random.choice("abcdefghijklmnopqrstuvwxyz \n") for _ in range(100_000)))
PY
read -r lid slug < <(laureate "Bench push")
upload_folder "$lid" "$dir/files"
curl -s -o /dev/null -X MKCOL "$dav/mdp/"; curl -s -o /dev/null -X MKCOL "$dav/rclone/"
start=$(seconds); before=$(wc -l <"$access")
sync_once mdp "$dir/journal.sqlite" >/dev/null
mdp_push=$(python3 -c "print(f'{$(seconds) - $start:.2f}')"); mdp_push_requests=$(requests_since "$before")
start=$(seconds); before=$(wc -l <"$access")
rclone copy "$dir/files" "${rclone_remote}rclone/$slug/dossier/application" --transfers 4 2>/dev/null
rclone_push=$(python3 -c "print(f'{$(seconds) - $start:.2f}')"); rclone_push_requests=$(requests_since "$before")

# 2. Peak memory while one BIG_MB file goes up (with the FILES of the first push known).
read -r big_id big_slug < <(laureate "Bench big")
head -c $((BIG_MB << 20)) /dev/urandom | tr -c 'a-z\n' 'a' >"$dir/big.txt"
curl -s -o /dev/null -X POST "$api/v1/laureates/$big_id/documents?kind=application&file_name=big.txt" \
    -H "Authorization: Bearer $token" -H 'Content-Type: application/octet-stream' -T "$dir/big.txt"
SYNC_API_URL=$api SYNC_API_TOKEN_FILE="$dir/sync-token" SYNC_WEBDAV_URL="$dav/mdp" SYNC_JOURNAL="$dir/journal.sqlite" \
    /usr/bin/time -f '%M' -o "$dir/mdp.rss" "$mdp" sync once --force >/dev/null 2>&1
/usr/bin/time -f '%M' -o "$dir/rclone.rss" rclone copy "$dir/big.txt" "${rclone_remote}rclone/big" >/dev/null 2>&1
mdp_rss=$(tail -1 "$dir/mdp.rss"); rclone_rss=$(tail -1 "$dir/rclone.rss")

# 3. No-change rerun over MANY small files (added to the FILES already there), with its peak memory.
mkdir -p "$dir/many"
python3 -c "
import os
for i in range($MANY - $FILES if $MANY > $FILES else 0):
    open(os.path.join('$dir/many', f'm{i:05d}.txt'), 'w').write(f'small file {i}\n')"
upload_folder "$lid" "$dir/many"
sync_once mdp "$dir/journal.sqlite" >/dev/null   # pushes the small files
sleep 1.1  # past the second of the last writes: the next run verifies them once, then they are settled
sync_once mdp "$dir/journal.sqlite" >/dev/null   # verifies once the files written in the second of their check
rclone copy "$dir/many" "${rclone_remote}rclone/$slug/dossier/application" --transfers 4 2>/dev/null
# One run of each for its requests (and mdp's memory), then hyperfine for the time: the median of 10 runs each.
mdp_rerun_command="env SYNC_API_URL=$api SYNC_API_TOKEN_FILE=$dir/sync-token SYNC_WEBDAV_URL=$dav/mdp SYNC_JOURNAL=$dir/journal.sqlite $mdp sync once --force"
rclone_rerun_command="rclone copy $dir/files \"${rclone_remote}rclone/$slug/dossier/application\" --transfers 4"  # quoted for sh
before=$(wc -l <"$access")
/usr/bin/time -f '%M' -o "$dir/rerun.rss" $mdp_rerun_command >"$dir/rerun.out" 2>>"$dir/sync.log"
mdp_rerun_requests=$(requests_since "$before")
rerun_rss=$(tail -1 "$dir/rerun.rss"); rerun_folders=$(sed -n 's/^folders listed \([0-9]*\), not listed again.* \([0-9]*\)$/\1 listed, \2 skipped/p' "$dir/rerun.out")
cp -r "$dir/many/." "$dir/files/"
before=$(wc -l <"$access")
sh -c "$rclone_rerun_command" 2>/dev/null
rclone_rerun_requests=$(requests_since "$before")
hyperfine --style none --warmup 1 --runs 10 --export-json "$dir/rerun.json" -n mdp "$mdp_rerun_command" -n rclone "$rclone_rerun_command" \
    >/dev/null 2>&1
read -r mdp_rerun rclone_rerun < <(python3 -c "import json; r = json.load(open('$dir/rerun.json'))['results']; print(f\"{r[0]['median']:.2f} {r[1]['median']:.2f}\")")

# 4. EDITS same-size edits on the Drive, a second after the last sync: who notices?
sleep 1.1  # edits must come after the last sync's second, as a person's would
python3 - "$dav" "$slug" "$EDITS" <<'PY'
import sys, urllib.request
dav, slug, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
for root in ("mdp", "rclone"):
    for i in range(count):
        url = f"{dav}/{root}/{slug}/dossier/application/f{i:05d}.txt"
        data = urllib.request.urlopen(url).read()
        edited = (b"b" if data[:1] == b"a" else b"a") + data[1:]
        urllib.request.urlopen(urllib.request.Request(url, data=edited, method="PUT"))
PY
start=$(seconds); before=$(wc -l <"$access")
mdp_edits=$(sync_once mdp "$dir/journal.sqlite" | sed -n 's/.*pulled \([0-9]*\),.*/\1/p')
mdp_edit_time=$(python3 -c "print(f'{$(seconds) - $start:.2f}')"); mdp_edit_requests=$(requests_since "$before")
start=$(seconds); before=$(wc -l <"$access")
rclone_edits=$(rclone copy "${rclone_remote}rclone/$slug/dossier/application" "$dir/files" --transfers 4 -v 2>&1 | grep -c ": Copied" || true)
rclone_edit_time=$(python3 -c "print(f'{$(seconds) - $start:.2f}')"); rclone_edit_requests=$(requests_since "$before")

ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }
table=$(cat <<TABLE
| measure | mdp sync | rclone (peer) | mdp / rclone |
|---|---|---|---|
| first push, $FILES × 100 KB (s) | $mdp_push | $rclone_push (copy from a local folder) | $(ratio "$mdp_push" "$rclone_push") |
| first push, requests to the Drive | $mdp_push_requests | $rclone_push_requests | |
| no-change rerun over $MANY files, median of 10 (s) | $mdp_rerun | $rclone_rerun | $(ratio "$mdp_rerun" "$rclone_rerun") |
| no-change rerun, requests to the Drive | $mdp_rerun_requests ($rerun_folders) | $rclone_rerun_requests | |
| no-change rerun, peak memory (MiB) | $((rerun_rss / 1024)) | | |
| $EDITS same-size edits: noticed | $mdp_edits | $rclone_edits | |
| same-size edits, time (s) / requests | $mdp_edit_time / $mdp_edit_requests | $rclone_edit_time / $rclone_edit_requests | |
| peak memory, one $BIG_MB MiB file, $FILES others known (MiB) | $((mdp_rss / 1024)) | $((rclone_rss / 1024)) | |
TABLE
)
section=$(cat <<SECTION
<!-- sync:start -->
## Sync (\`bench/sync.sh\`)

$(date -u +%Y-%m-%d), release build, Apache 2.4 mod_dav on 127.0.0.1 as the Drive, rclone $(rclone version 2>/dev/null | head -1 | awk '{print $2}')
as the peer in the same run, 4 parallel transfers each, $(nproc) cores. mdp reads every file from the API (download,
check, then PUT); rclone copies from a local folder. Targets: first push no slower than rclone, no-change rerun at
most a third of rclone's time, every same-size edit caught, peak memory under 64 MiB.

$table

Run as \`FILES=$FILES MANY=$MANY EDITS=$EDITS BIG_MB=$BIG_MB bench/sync.sh\`. mdp's Sync module is built without
optimisation (Swift 6.3.1 at -O broke its parallel transfers), so its CPU-bound parts (journal, decisions) run slower
than they could. The no-change rerun lists the root, each laureate's folder and its \`dossier\` folder, not the folders
of files, whose tag has not moved since they were in step (Apache moves a folder's tag when a file directly inside
changes; probed per server). Its memory holds the whole journal and the API's mirror, so it grows with the number of
known files (the rerun row); the big-file figure is taken with only the first push's files known. rclone compares
sizes only on plain WebDAV, so it does not notice same-size edits.
<!-- sync:end -->
SECTION
)
write_section sync "$section"
echo "$table"
