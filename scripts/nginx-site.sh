#!/usr/bin/env bash
# Runs deploy/nginx/mdp.conf as shipped on loopback, only its ports, server name, certificate and folders changed:
# a self-signed certificate for 127.0.0.1 is made with openssl. Used by deploy-test.sh and instances-test.sh.
# Usage: nginx-site.sh start DIR HTTPS_PORT HTTP_PORT UPSTREAM_PORT [SECOND_UPSTREAM_PORT]   (prints the CA file)
#        nginx-site.sh stop DIR
set -euo pipefail
action=$1 dir=$2
if [ "$action" = stop ]; then
    [ -f "$dir/nginx/nginx.pid" ] && kill "$(cat "$dir/nginx/nginx.pid")" 2>/dev/null || true
    exit 0
fi
https=$3 http=$4 a=$5 b=${6:-}
site=$(cd "$(dirname "$0")/.." && pwd)/deploy/nginx/mdp.conf
mkdir -p "$dir/nginx/cache" "$dir/nginx/log"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" \
    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" -keyout "$dir/nginx/key.pem" -out "$dir/nginx/cert.pem" 2>/dev/null
substitutions=(
    -e "s|listen 443 ssl http2;|listen 127.0.0.1:$https ssl http2;|" -e "s|listen 80;|listen 127.0.0.1:$http;|"
    -e "s|server 127.0.0.1:8081 |server 127.0.0.1:$a |"
    -e "s|/etc/letsencrypt/live/api.example.fr/fullchain.pem|$dir/nginx/cert.pem|"
    -e "s|/etc/letsencrypt/live/api.example.fr/privkey.pem|$dir/nginx/key.pem|"
    -e "s|/var/cache/nginx/mdp|$dir/nginx/cache|" -e "s|/var/log/nginx/mdp.access.log|$dir/nginx/log/access.log|"
    -e "s|server_name api.example.fr;|server_name 127.0.0.1;|"
)
[ -n "$b" ] && substitutions+=(-e "s|# server 127.0.0.1:8082 max_fails=1 fail_timeout=10s;.*|server 127.0.0.1:$b max_fails=1 fail_timeout=10s;|")
sed "${substitutions[@]}" "$site" >"$dir/nginx/mdp.conf"
for expected in "127.0.0.1:$https ssl" "127.0.0.1:$http;" "127.0.0.1:$a " "$dir/nginx/cert.pem" ${b:+"127.0.0.1:$b "}; do
    grep -qF "$expected" "$dir/nginx/mdp.conf" ||
        { echo "nginx-site: deploy/nginx/mdp.conf no longer has what this script substitutes ($expected)" >&2; exit 1; }
done
user_line=""
[ "$(id -u)" = 0 ] && user_line="user root;"
cat >"$dir/nginx/nginx.conf" <<CONF
$user_line
pid $dir/nginx/nginx.pid;
error_log $dir/nginx/log/error.log;
events { worker_connections 1024; }
http {
    client_body_temp_path $dir/nginx/body;
    proxy_temp_path $dir/nginx/proxy;
    include $dir/nginx/mdp.conf;
}
CONF
nginx -t -q -c "$dir/nginx/nginx.conf" -p "$dir/nginx"
nginx -c "$dir/nginx/nginx.conf" -p "$dir/nginx"
deadline=$((SECONDS + 30))
until curl -s -o /dev/null --cacert "$dir/nginx/cert.pem" "https://127.0.0.1:$https/health"; do
    if [ $SECONDS -ge $deadline ]; then cat "$dir/nginx/log/error.log" >&2; exit 1; fi
    sleep 0.1
done
echo "$dir/nginx/cert.pem"
