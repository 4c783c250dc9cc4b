#!/usr/bin/env python3
"""A request cut by `kill -9` can be retried after a restart.

Starts `mdp serve` on a throwaway folder, begins an upload with an Idempotency-Key and stops sending half-way; once the
server has claimed the key (a second try answers 409 idempotency_in_progress), kills it with SIGKILL, starts it again
and retries the whole upload with the same key: it must succeed (201), once, and the retry after that must replay it.
Usage: crash-retry.py path/to/mdp. Exits non-zero on failure.
"""
import json, os, signal, socket, subprocess, sys, tempfile, time, urllib.error, urllib.request

binary = sys.argv[1]
folder = tempfile.mkdtemp(prefix="mdp-crash-")
data = os.path.join(folder, "data")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


port = free_port()
base = f"http://127.0.0.1:{port}"
log = open(os.path.join(folder, "serve.log"), "ab")


def start():
    process = subprocess.Popen([binary, "serve", "--port", str(port), "--data-dir", data], stdout=log, stderr=log,
                               env={**os.environ, "PROGRAMME_TODAY": "2024-03-15"})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"crash-retry: mdp serve exited ({process.returncode})")
        try:
            urllib.request.urlopen(base + "/health", timeout=1)
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    sys.exit("crash-retry: mdp serve did not become healthy")


def call(method, path, token=None, body=None, headers=None, raw=None):
    headers = dict(headers or {})
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data_bytes = raw
    if body is not None:
        headers["Content-Type"] = "application/json"
        data_bytes = json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data_bytes, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


subprocess.run([binary, "admin", "create", "--email", "ops@example.fr", "--data-dir", data],
               input=b"a long crash password\n", check=True, stdout=subprocess.DEVNULL)
server = start()
try:
    status, session = call("POST", "/v1/auth/token", body={"email": "ops@example.fr", "password": "a long crash password"})
    assert status == 201, (status, session)
    token = session["token"]
    status, laureate = call("POST", "/v1/laureates", token, body={
        "name": "La Fabrique", "legal_entity": "SCIC", "siret": "44306184100047", "commune_insee": "42218",
        "commune_name": "Saint-Étienne", "department": "42", "territory_types": ["rural"], "cohort": 1,
        "sectors": ["bois"], "support_ceiling_cents": 1500000})
    assert status == 201, (status, laureate)
    content = ("Dossier de candidature\n" * 200).encode()

    # Half an upload, then silence: the server claims the key and waits for the rest. Whether the cut request or the
    # first probe reaches the key first is up to the scheduler: when the probe wins (it answers 201), that attempt
    # proves nothing and the next one starts over with a new key and a new file.
    for attempt in range(1, 11):
        file_name = f"dossier-{attempt}.txt"
        path = f"/v1/laureates/{laureate['id']}/documents?kind=application&file_name={file_name}"
        key = f"depot-coupe-{attempt}"
        cut = socket.create_connection(("127.0.0.1", port))
        cut.sendall((f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
                     f"Content-Type: application/octet-stream\r\nContent-Length: {len(content)}\r\n"
                     f"Idempotency-Key: {key}\r\n\r\n").encode() + content[:100])
        deadline = time.monotonic() + 20
        while True:
            status, problem = call("POST", path, token, raw=content, headers={
                "Content-Type": "application/octet-stream", "Idempotency-Key": key})
            if status in (201, 409):
                break
            assert time.monotonic() < deadline, f"the key was never claimed: {status} {problem}"
        if status == 409 and problem.get("code") == "idempotency_in_progress":
            break
        assert status == 201, f"the probe answered {status} {problem}"
        cut.close()
    else:
        sys.exit("crash-retry: the cut request never reached the server before its probe, in 10 attempts")
    server.send_signal(signal.SIGKILL)
    server.wait()
    cut.close()

    server = start()
    status, document = call("POST", path, token, raw=content, headers={
        "Content-Type": "application/octet-stream", "Idempotency-Key": key})
    assert status == 201, f"the retry after the restart answered {status} {document}"
    status, again = call("POST", path, token, raw=content, headers={
        "Content-Type": "application/octet-stream", "Idempotency-Key": key})
    assert status == 201 and again["id"] == document["id"], (status, again)
    status, feed = call("GET", "/v1/documents?updated_after=0&limit=100", token)
    assert [d["id"] for d in feed["items"] if d["file_name"] == file_name] == [document["id"]], feed
    print("crash-retry: a request killed half-way is free to retry after the restart, and done once")
finally:
    server.kill()
    server.wait()
