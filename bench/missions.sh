#!/usr/bin/env bash
# Missions benchmark: `mdp bench missions` (release build) on a scratch SQLite file with 10 000 missions; writes the
# table into bench/README.md between the missions markers.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
swift build -c release --product mdp --scratch-path .build-bench >/dev/null
data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT
table=$(.build-bench/release/mdp bench missions --data-dir "$data" --missions "${MISSIONS:-10000}" --transitions "${TRANSITIONS:-2000}")
section=$(cat <<SECTION
<!-- missions:start -->
## Missions (\`bench/missions.sh\`)

$(date -u +%Y-%m-%d), release build, one process on the same $(nproc)-core machine, SQLite in WAL mode on local disk,
every write in its own transaction with its audit event (the chain is verified at the end).

$table
<!-- missions:end -->
SECTION
)
write_section missions "$section"
echo "$table"
