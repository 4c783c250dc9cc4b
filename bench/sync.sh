#!/usr/bin/env bash
# Sync benchmark: `mdp sync` (release) and rclone, the peer, against each of the three Drives of the tests (Apache
# mod_dav, wsgidav, `rclone serve webdav`), in the same run. Writes the figures into bench/README.md between the sync
# markers. Sizes: FILES (files of 100 KB, default 1000), MANY (files in all, the others small, default 10000), EDITS
# (same-size edits, default 100), BIG_MB (one big file, Apache only, default 1024), KNOWN (files known to the journal
# for the memory figure, default 100000), DRIVES (default "apache wsgidav rclone").
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
FILES=${FILES:-1000}; MANY=${MANY:-10000}; EDITS=${EDITS:-100}; BIG_MB=${BIG_MB:-1024}; KNOWN=${KNOWN:-100000}
DRIVES=${DRIVES:-apache wsgidav rclone}
command -v rclone >/dev/null && command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq rclone hyperfine; }
swift build -c release --product mdp --scratch-path .build-bench >/dev/null
mdp=$PWD/.build-bench/release/mdp
# rclone as its best user would run it against a WebDAV server: 4 transfers like mdp, 8 checkers (its default) to
# list folders in parallel, no pacer beyond rclone's default, no listing cache between runs.
RCLONE_FLAGS="--transfers 4 --checkers 8"

dir=$(mktemp -d); chmod 755 "$dir"
api_pid=""
# The clean-up goes on past any failing step (errexit and pipefail would stop it halfway and leave servers running).
trap 'set +e +o pipefail; [ -n "$api_pid" ] && kill $api_pid; grep -h "^failed" "$dir/sync.log" 2>/dev/null | head -5 >&2; scripts/webdav-servers.sh stop "$dir"; rm -rf "$dir"; true' EXIT
line=$(scripts/webdav-servers.sh start "$dir" | tail -1)
drive_url() { echo "$line" | sed "s/.*$1=\([^,]*\).*/\1/"; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
printf 'a long bench password\n' | "$mdp" admin create --email bench@bench.local --data-dir "$dir/api" >/dev/null
"$mdp" admin token --role sync --data-dir "$dir/api" >"$dir/sync-token"
DOCUMENTS_MAX_BYTES=$(( (BIG_MB + 1) << 20 )) HTTP_PORT=$port "$mdp" serve --data-dir "$dir/api" >"$dir/api.log" 2>&1 &
api_pid=$!
api="http://127.0.0.1:$port"
deadline=$((SECONDS + 60))
until curl -sf "$api/health" >/dev/null; do kill -0 $api_pid; [ $SECONDS -lt $deadline ]; sleep 0.1; done
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
mdp_command() {  # mdp_command DAV_ROOT_URL JOURNAL: the command line of one run
    echo "env SYNC_API_URL=$api SYNC_API_TOKEN_FILE=$dir/sync-token SYNC_WEBDAV_URL=$1 SYNC_JOURNAL=$2 $mdp sync once --force"
}
seconds() { echo "$EPOCHREALTIME"; }  # the clock itself: no process started around the measure
elapsed() { python3 -c "print(f'{$(seconds) - $1:.2f}')"; }
ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }

# The API side, once for every Drive: FILES × 100 KB and MANY − FILES small files, all one laureate's applications.
mkdir -p "$dir/files"
python3 - "$dir/files" "$FILES" "$MANY" <<'PY'
import os, random, sys
folder, big, many = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
random.seed(7)
for i in range(big):
    with open(os.path.join(folder, f"f{i:05d}.txt"), "w") as f:
        f.write("".join(random.choice("abcdefghijklmnopqrstuvwxyz \n") for _ in range(100_000)))
for i in range(max(0, many - big)):
    with open(os.path.join(folder, f"m{i:05d}.txt"), "w") as f:
        f.write(f"small file {i}\n")
PY
read -r lid slug < <(laureate "Bench sync")
upload_folder "$lid" "$dir/files"

rows=""
for name in $DRIVES; do
    dav=$(drive_url "$name")
    journal="$dir/journal-$name.sqlite"
    curl -s -o /dev/null -X MKCOL "$dav/mdp/"; curl -s -o /dev/null -X MKCOL "$dav/rclone/"
    remote=":webdav,url='$dav':rclone/$slug/dossier/application"
    # 1. First push of everything; rclone copies the same files from a local folder.
    start=$(seconds)
    $(mdp_command "$dav/mdp" "$journal") >"$dir/push.out" 2>>"$dir/sync.log" || echo "$name: first push exited $?" >&2
    mdp_push=$(elapsed "$start")
    start=$(seconds)
    rclone copy "$dir/files" "$remote" $RCLONE_FLAGS 2>>"$dir/sync.log"
    rclone_push=$(elapsed "$start")
    # 2. The rerun right after the push: what it reads back (files written in the second of their check, on a Drive
    #    whose file tags count whole seconds), and how long it takes.
    start=$(seconds)
    $(mdp_command "$dav/mdp" "$journal") >"$dir/after.out" 2>>"$dir/sync.log" || true
    mdp_after=$(elapsed "$start")
    read_back=$(sed -n 's/^read back to be sure.* \([0-9]*\)$/\1/p' "$dir/after.out"); read_back=${read_back:-0}
    probed=$(grep -h "^Drive probed" "$dir/push.out" | head -1 | sed 's/^Drive probed: //')
    # 3. No-change reruns, median of 10: mdp against `rclone sync` of the same tree (nothing to copy either).
    hyperfine --style none --warmup 1 --runs 10 --export-json "$dir/rerun-$name.json" \
        -n mdp "$(mdp_command "$dav/mdp" "$journal")" \
        -n rclone "rclone sync $dir/files \"$remote\" $RCLONE_FLAGS" >/dev/null 2>&1
    read -r mdp_rerun rclone_rerun < <(python3 -c "import json; r = json.load(open('$dir/rerun-$name.json'))['results']; print(f\"{r[0]['median']:.2f} {r[1]['median']:.2f}\")")
    /usr/bin/time -f '%M' -o "$dir/rerun.rss" $(mdp_command "$dav/mdp" "$journal") >"$dir/rerun.out" 2>>"$dir/sync.log" || true
    rerun_rss=$(tail -1 "$dir/rerun.rss")
    listed=$(sed -n 's/^folders listed \([0-9]*\),.*/\1/p' "$dir/rerun.out")
    # 4. EDITS same-size edits on the Drive, a second after the last sync: noticed?
    sleep 1.1  # edits must come after the last sync's second, as a person's would
    python3 - "$dav/mdp/$slug/dossier/application" "$EDITS" <<'PY'
import sys, urllib.request
base, count = sys.argv[1], int(sys.argv[2])
for i in range(count):
    url = f"{base}/f{i:05d}.txt"
    data = urllib.request.urlopen(url).read()
    edited = (b"b" if data[:1] == b"a" else b"a") + data[1:]
    urllib.request.urlopen(urllib.request.Request(url, data=edited, method="PUT"))
PY
    start=$(seconds)
    $(mdp_command "$dav/mdp" "$journal") >"$dir/edits.out" 2>>"$dir/sync.log" || true
    mdp_edit_time=$(elapsed "$start")
    mdp_edits=$(sed -n 's/.*pulled \([0-9]*\),.*/\1/p' "$dir/edits.out")
    rows+="| $name | $mdp_push / $rclone_push | $mdp_after ($read_back read back) | $mdp_rerun / $rclone_rerun ($(ratio "$mdp_rerun" "$rclone_rerun")) | $listed | $((rerun_rss / 1024)) | $mdp_edits of $EDITS in $mdp_edit_time s | $probed |"$'\n'
done

# 5. Peak memory while one BIG_MB file goes up, on Apache (with the files above known).
big_row=""
if [ "$BIG_MB" -gt 0 ] && [[ " $DRIVES " == *" apache "* ]]; then
    dav=$(drive_url apache)
    read -r big_id _ < <(laureate "Bench big")
    head -c $((BIG_MB << 20)) /dev/urandom | tr -c 'a-z\n' 'a' >"$dir/big.txt"
    curl -s -o /dev/null -X POST "$api/v1/laureates/$big_id/documents?kind=application&file_name=big.txt" \
        -H "Authorization: Bearer $token" -H 'Content-Type: application/octet-stream' -T "$dir/big.txt"
    /usr/bin/time -f '%M' -o "$dir/mdp.rss" $(mdp_command "$dav/mdp" "$dir/journal-apache.sqlite") >/dev/null 2>&1 || true
    /usr/bin/time -f '%M' -o "$dir/rclone.rss" rclone copy "$dir/big.txt" ":webdav,url='$dav':rclone/big" >/dev/null 2>&1
    big_row="Peak memory while one $BIG_MB MiB file goes up (Apache, $MANY others known): mdp $(( $(tail -1 "$dir/mdp.rss") / 1024 )) MiB, rclone $(( $(tail -1 "$dir/rclone.rss") / 1024 )) MiB."
    rm -f "$dir/big.txt"
fi

# 6. Memory for KNOWN known files: a journal and a mirror holding KNOWN files, the same files on rclone's disk (made
#    there directly), one run (no --force) that reads both sides, decides, and stops at the safety threshold.
known_row=""
if [ "$KNOWN" -gt 0 ]; then
    root="$dir/known-root"
    journal="$dir/journal-known.sqlite"
    SYNC_API_URL=$api SYNC_API_TOKEN_FILE="$dir/sync-token" SYNC_WEBDAV_URL="$(drive_url apache)" SYNC_JOURNAL="$journal" \
        "$mdp" sync once --dry-run >/dev/null 2>&1 || true  # creates the journal
    python3 - "$root" "$journal" "$KNOWN" <<'PY'
import hashlib, os, sqlite3, sys, time, uuid
root, journal, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
db = sqlite3.connect(journal)
now = time.time()
entries, mirror = [], []
for i in range(count):
    slug = f"lieu-{i // 1000:03d}"
    name = f"doc-{i:06d}.txt"
    path = f"{slug}/dossier/application/{name}"
    folder = os.path.join(root, slug, "dossier", "application")
    os.makedirs(folder, exist_ok=True)
    data = f"known file {i}\n".encode()
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)
    sha = hashlib.sha256(data).hexdigest()
    doc = str(uuid.UUID(int=i))
    entries.append((path, doc, 1, sha, '"x"', len(data), now - 60, now))
    mirror.append((doc, str(uuid.UUID(int=10**9 + i // 1000)), slug, None, None, "application", 1, name, len(data), sha, i + 1, 0, path))
db.executemany("INSERT INTO entry (path, document_id, version, sha256, remote_etag, size, remote_modified, checked_at) VALUES (?,?,?,?,?,?,?,?)", entries)
db.executemany("INSERT INTO mirror VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", mirror)
db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('cursor', '1000000000000')")
db.commit()
PY
    # Its own rclone server, started once the files are there (rclone caches listings of what it did not write).
    known_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
    rclone serve webdav --addr "127.0.0.1:$known_port" "$root" >"$dir/known-rclone.log" 2>&1 &
    known_pid=$!
    deadline=$((SECONDS + 60))
    until curl -s -o /dev/null -X PROPFIND -H 'Depth: 0' "http://127.0.0.1:$known_port/"; do [ $SECONDS -lt $deadline ]; sleep 0.1; done
    start=$(seconds)
    SYNC_API_URL=$api SYNC_API_TOKEN_FILE="$dir/sync-token" SYNC_WEBDAV_URL="http://127.0.0.1:$known_port" SYNC_JOURNAL="$journal" \
        /usr/bin/time -f '%M' -o "$dir/known.rss" "$mdp" sync once >"$dir/known.out" 2>>"$dir/sync.log" || true
    known_time=$(elapsed "$start")
    kill $known_pid
    grep -q "^safety stop" "$dir/known.out" || echo "the known-files run did not stop at the threshold: $(head -3 "$dir/known.out")" >&2
    known_row="Memory for $KNOWN known files (journal, API mirror, a Drive listing of as many files, the decisions; rclone serve webdav, whole trees listed, the run stopped by the safety threshold before any transfer as every tag differs from the journal's): peak $(( $(tail -1 "$dir/known.rss") / 1024 )) MiB, $known_time s."
fi

section=$(cat <<SECTION
<!-- sync:start -->
## Sync (\`bench/sync.sh\`)

$(date -u +%Y-%m-%d), release build, the three Drives of the tests on 127.0.0.1, rclone $(rclone version 2>/dev/null | head -1 | awk '{print $2}')
as the peer in the same run (\`$RCLONE_FLAGS\`: 4 transfers like mdp, its default 8 checkers listing folders in
parallel; no pacer setting, none applies to a local server), $(nproc) cores. The API holds $MANY files ($FILES of
100 KB); mdp reads each from the API (download, check, then upload), rclone copies them from a local folder.

| Drive | first push, mdp / rclone (s) | rerun right after the push (s) | no-change rerun, median of 10, mdp / rclone (s) | listings per rerun | rerun peak memory (MiB) | same-size edits caught | what the probe found |
|---|---|---|---|---|---|---|---|
$rows
$big_row

$known_row

Run as \`FILES=$FILES MANY=$MANY EDITS=$EDITS BIG_MB=$BIG_MB KNOWN=$KNOWN bench/sync.sh\`. A no-change rerun lists the
root and then, on a Drive that answers \`Depth: infinity\` (wsgidav, rclone), each laureate's whole folder in one
request; on Apache, which refuses it, folders whose tag has not moved since they were in step are not listed. The rerun
right after a push reads back nothing where file tags move with any write (Apache, rclone: probed). On wsgidav, whose
tags count whole seconds, a new file goes up under a name of the engine's own and is moved into place once the Drive's
clock (the \`Date\` of its answers) has passed the second of that upload, the file lending its transfer lane while it
waits: any later write is dated in a later second and moves the tag, so nothing needs reading back either. A file
replaced in place, or named with characters the probe did not move a file to (a \`?\`, which wsgidav reads as a query),
is read back once on the next run. rclone compares sizes only on plain WebDAV, so it does not notice same-size edits.
<!-- sync:end -->
SECTION
)
write_section sync "$section"
echo "$section"
