#!/usr/bin/env bash
# Starts the real WebDAV servers the sync tests run against, on 127.0.0.1, and prints their URLs as
# MDP_TEST_WEBDAV=name=url,name=url; `stop DIR` stops them. Installs what is missing (wsgidav from PyPI, Apache and
# rclone from Debian). Health is polled with a deadline, never slept for. Three servers that differ where it matters:
# Apache tags folders and honours preconditions; wsgidav has no folder tags and one-second file tags; `rclone serve
# webdav` ignores If-Match / If-None-Match on PUT and writes uploads in place.
set -euo pipefail
command=${1:?usage: webdav-servers.sh start DIR | stop DIR}
dir=${2:?usage: webdav-servers.sh start DIR | stop DIR}
sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }

wait_for() {  # wait_for URL NAME
    local deadline=$((SECONDS + 60))
    until curl -s -o /dev/null -X PROPFIND -H 'Depth: 0' "$1"; do
        if [ $SECONDS -ge $deadline ]; then echo "webdav: $2 did not answer at $1" >&2; return 1; fi
        sleep 0.1
    done
}

case $command in
start)
    python3 -c 'import wsgidav, cheroot' 2>/dev/null || python3 -m pip install -q wsgidav cheroot >&2
    missing=""
    command -v apache2 >/dev/null || missing="$missing apache2"
    command -v rclone >/dev/null || missing="$missing rclone"
    if [ -n "$missing" ]; then
        $sudo apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing >&2
    fi
    mkdir -p "$dir/wsgidav-root" "$dir/apache-root" "$dir/apache-lock" "$dir/apache-logs" "$dir/rclone-root"

    wsgidav_port=$(free_port)
    # Through the interpreter that has it, whether or not its script is on PATH yet.
    nohup python3 -c 'import sys; from wsgidav.server.server_cli import run; sys.argv[0] = "wsgidav"; run()' \
        --host 127.0.0.1 --port "$wsgidav_port" --root "$dir/wsgidav-root" --auth anonymous --no-config \
        >"$dir/wsgidav.log" 2>&1 &
    echo $! >"$dir/wsgidav.pid"

    apache_port=$(free_port)
    modules=/usr/lib/apache2/modules
    cat >"$dir/apache.conf" <<CONF
ServerRoot "$dir"
ServerName 127.0.0.1
Listen 127.0.0.1:$apache_port
PidFile "$dir/apache.pid"
ErrorLog "$dir/apache-logs/error.log"
CustomLog "$dir/apache-logs/access.log" "%m %U %>s"
LoadModule mpm_event_module $modules/mod_mpm_event.so
LoadModule authz_core_module $modules/mod_authz_core.so
LoadModule dav_module $modules/mod_dav.so
LoadModule dav_fs_module $modules/mod_dav_fs.so
User www-data
Group www-data
DavLockDB "$dir/apache-lock/DavLock"
DocumentRoot "$dir/apache-root"
<Directory "$dir/apache-root">
    Dav On
    Require all granted
</Directory>
CONF
    chown -R www-data:www-data "$dir/apache-root" "$dir/apache-lock"
    apache2 -f "$dir/apache.conf" -k start

    rclone_port=$(free_port)
    nohup rclone serve webdav --addr "127.0.0.1:$rclone_port" "$dir/rclone-root" >"$dir/rclone.log" 2>&1 &
    echo $! >"$dir/rclone.pid"

    wait_for "http://127.0.0.1:$wsgidav_port/" wsgidav
    wait_for "http://127.0.0.1:$apache_port/" apache
    wait_for "http://127.0.0.1:$rclone_port/" rclone
    echo "MDP_TEST_WEBDAV=wsgidav=http://127.0.0.1:$wsgidav_port,apache=http://127.0.0.1:$apache_port,rclone=http://127.0.0.1:$rclone_port"
    ;;
stop)
    [ -f "$dir/wsgidav.pid" ] && kill "$(cat "$dir/wsgidav.pid")" 2>/dev/null || true
    [ -f "$dir/rclone.pid" ] && kill "$(cat "$dir/rclone.pid")" 2>/dev/null || true
    [ -f "$dir/apache.conf" ] && apache2 -f "$dir/apache.conf" -k stop 2>/dev/null || true
    ;;
esac
