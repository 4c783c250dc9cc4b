#!/usr/bin/env bash
# Runs a command with the real WebDAV test servers up (MDP_TEST_WEBDAV set, MDP_REQUIRE_WEBDAV=1), then stops them.
set -euo pipefail
dir=$(mktemp -d)
chmod 755 "$dir"  # Apache's worker user must reach its document root
trap 'scripts/webdav-servers.sh stop "$dir"; rm -rf "$dir"' EXIT
line=$(scripts/webdav-servers.sh start "$dir" | tail -1)
export "${line?}"
export MDP_REQUIRE_WEBDAV=1
"$@"
