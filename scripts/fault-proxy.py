#!/usr/bin/env python3
"""A fault-injecting HTTP proxy for the sync tests: forwards to TARGET, and by a fixed pattern over the request count
answers 503, 429 (Retry-After: 0) or 423, drops the connection, or stalls in the middle of a body. Under /__redirect/
it answers 301, under /__page/ a web page: roots that are not WebDAV folders.

With --mortal it forwards faithfully until a request for /__die: then it drops every open connection and stops
listening for good, as a Drive that went away (connections refused from then on)."""
import http.client
import socketserver
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

target = urllib.parse.urlparse(sys.argv[2])
mortal = "--mortal" in sys.argv[3:]
dead = threading.Event()
counter = 0
lock = threading.Lock()


class Proxy(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle_any(self):
        global counter
        with lock:
            counter += 1
            n = counter
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        fault = None
        # Roots that are not WebDAV folders, for the tests of a wrong root: a redirect, and a web page.
        if self.path.startswith("/__redirect/"):
            self.send_response(301)
            self.send_header("Location", "https://drive.example.fr/remote.php/dav/files/ftl/")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.path.startswith("/__page/"):
            page = b"<html><head><title>Connexion</title></head><body><h1>Se connecter</h1></body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)
            return
        if mortal:
            if self.path == "/__die":
                dead.set()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
                threading.Thread(target=die, daemon=True).start()
                return
            if dead.is_set():
                self.close_connection = True
                self.connection.shutdown(2)
                return
        elif n % 17 == 0:
            fault = "drop"
        elif n % 13 == 0 and self.command == "GET":
            fault = "stall"
        elif n % 7 == 0:
            fault = 503
        elif n % 5 == 0:
            fault = 429
        elif n % 11 == 0:
            fault = 423
        if fault == "drop":
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if isinstance(fault, int):
            self.send_response(fault)
            if fault == 429:
                self.send_header("Retry-After", "0")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        connection = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        headers["Host"] = target.netloc
        # MOVE and COPY name their destination by URL: the server must see one of its own, not the proxy's.
        for key in [k for k in headers if k.lower() == "destination"]:
            destination = urllib.parse.urlparse(headers[key])
            headers[key] = urllib.parse.urlunparse(
                (target.scheme, target.netloc, target.path.rstrip("/") + destination.path, "", destination.query, ""))
        path = target.path.rstrip("/") + self.path
        connection.request(self.command, path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
        self.send_response(response.status)
        for key, value in response.getheaders():
            if key.lower() in ("transfer-encoding", "connection", "content-length"):
                continue
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if fault == "stall" and len(data) > 2:
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            time.sleep(8)  # longer than the client's low-speed limit: it must give up and retry
            self.close_connection = True
            return
        self.wfile.write(data)

    do_GET = do_PUT = do_PROPFIND = do_MKCOL = do_DELETE = do_MOVE = do_COPY = do_HEAD = do_OPTIONS = do_POST = handle_any


class Server(ThreadingHTTPServer):
    daemon_threads = True


server = None


def die():
    server.shutdown()  # serve_forever returns, the listening socket is closed below, and the process ends
    server.server_close()


if __name__ == "__main__":
    port = int(sys.argv[1])
    server = Server(("127.0.0.1", port), Proxy)
    server.serve_forever()
