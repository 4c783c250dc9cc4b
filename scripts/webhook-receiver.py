"""A webhook receiver for the tests: verifies each request's Standard Webhooks signature with the `standardwebhooks`
package (PyPI) and writes what it got to FOLDER/NAME/NNNN.json (headers, body, whether the signature verified, and
how it answered). Each NAME behaves as told:

    POST /__secret/NAME   body: the subscription's whsec_ secret
    POST /__mode/NAME     body: ok (204), fail (500), slow (waits 6 s, then 204)
    POST /hook/NAME       a delivery

    webhook-receiver.py FOLDER PORT
"""
import json, os, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

folder, port = sys.argv[1], int(sys.argv[2])
secrets, modes, counts = {}, {}, {}
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status):
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        parts = self.path.strip("/").split("/")
        if len(parts) != 2:
            return self.answer(404)
        kind, name = parts
        if kind == "__secret":
            secrets[name] = body.decode()
            return self.answer(204)
        if kind == "__mode":
            modes[name] = body.decode()
            return self.answer(204)
        if kind != "hook":
            return self.answer(404)
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            Webhook(secrets[name]).verify(body, headers)
            verified = True
        except (KeyError, WebhookVerificationError):
            verified = False
        mode = modes.get(name, "ok")
        with lock:
            counts[name] = counts.get(name, 0) + 1
            number = counts[name]
        target = os.path.join(folder, name)
        os.makedirs(target, exist_ok=True)
        record = {"headers": headers, "body": body.decode(errors="replace"), "verified": verified, "mode": mode}
        path = os.path.join(target, "%04d.json" % number)
        with open(path + ".tmp", "w") as f:
            json.dump(record, f)
        os.rename(path + ".tmp", path)
        if mode == "fail":
            return self.answer(500)
        if mode == "slow":
            time.sleep(6)
        self.answer(204)


server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
print("listening", flush=True)
server.serve_forever()
