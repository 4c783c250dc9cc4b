#!/usr/bin/env python3
"""Backups that restore, and a shutdown that loses nothing, tried on the real binary.

1. Backup under write load: four clients upload documents without pause while `mdp admin backup` runs. The backup is
   restored into a fresh folder (`mdp admin restore`, which verifies the audit chain and every content): every upload
   acknowledged before the backup began is in it; `mdp admin verify` passes; a restore into a folder that holds data is
   refused, and with --replace the data is set aside, not deleted.
2. SIGTERM during uploads and writes: slow uploads in flight and a stream of laureate creations when the server gets
   SIGTERM. The server exits 0; every request either completed (its answer arrived whole) or failed cleanly (no answer);
   after the stop every recorded document has its content, no content file is left unreferenced, and each completed
   request is in the database.
Usage: ops-test.py path/to/mdp. Prints what it checked; exits non-zero on failure.
"""
import http.client, json, os, signal, socket, sqlite3, subprocess, sys, tempfile, threading, time, urllib.error, urllib.request

binary = os.path.abspath(sys.argv[1])
folder = tempfile.mkdtemp(prefix="mdp-ops-")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(*arguments, expect=0):
    done = subprocess.run([binary, *arguments], capture_output=True, text=True, env={**os.environ, "PROGRAMME_TODAY": "2024-03-15"})
    if done.returncode != expect:
        sys.exit(f"ops-test: mdp {' '.join(arguments)} exited {done.returncode}, expected {expect}\n{done.stdout}{done.stderr}")
    return done.stdout + done.stderr


class Server:
    def __init__(self, data, grace="25"):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = open(os.path.join(folder, f"serve-{self.port}.log"), "ab")
        self.process = subprocess.Popen(
            [binary, "serve", "--port", str(self.port), "--data-dir", data], stdout=self.log, stderr=self.log,
            env={**os.environ, "PROGRAMME_TODAY": "2024-03-15", "SHUTDOWN_GRACE": grace, "LOG_FORMAT": "json"})
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.exit(f"ops-test: mdp serve exited ({self.process.returncode})")
            try:
                urllib.request.urlopen(self.base + "/ready", timeout=1)
                return
            except OSError:
                time.sleep(0.1)
        self.process.kill()
        sys.exit("ops-test: mdp serve did not become ready")

    def call(self, method, path, token=None, body=None, raw=None, headers=None):
        headers = dict(headers or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if body is not None:
            headers["Content-Type"] = "application/json"
            raw = json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=raw, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")


def setup(data):
    run("admin", "create", "--email", "ops@example.fr", "--data-dir", data)
    return data


def prepare(server):
    status, session = server.call("POST", "/v1/auth/token", body={"email": "ops@example.fr", "password": "un long mot de passe ops"})
    assert status == 201, (status, session)
    token = session["token"]
    status, laureate = server.call("POST", "/v1/laureates", token, body=laureate_body(0))
    assert status == 201, (status, laureate)
    return token, laureate["id"]


def laureate_body(n):
    return {"name": f"Manufacture {n}", "legal_entity": "SCIC", "siret": "44306184100047", "commune_insee": "42218",
            "commune_name": "Saint-Étienne", "department": "42", "territory_types": ["rural"], "cohort": 1,
            "sectors": ["bois"], "support_ceiling_cents": 1500000}


def recorded_files(data):
    with sqlite3.connect(f"file:{os.path.join(data, 'mdp.sqlite')}?mode=ro", uri=True) as db:
        return {row[0] for row in db.execute("SELECT file_name FROM document_version")}


failures = []


def check(name, condition, detail=""):
    print(f"ops-test: {'ok  ' if condition else 'FAILED'} {name}" + (f" ({detail})" if detail and not condition else ""))
    if not condition:
        failures.append(name)


# 1. Backup under write load, restore, verify.
def backup_under_load():
    data = setup(os.path.join(folder, "live"))
    server = Server(data)
    try:
        token, laureate = prepare(server)
        acknowledged = []  # (file name, when the answer arrived)
        lock = threading.Lock()
        stop = threading.Event()

        def writer(n):
            i = 0
            while not stop.is_set():
                name = f"charge-{n}-{i}.txt"
                status, _ = server.call("POST", f"/v1/laureates/{laureate}/documents?kind=application&file_name={name}", token,
                                        raw=(f"{name}\n" * 300).encode(), headers={"Content-Type": "application/octet-stream"})
                if status == 201:
                    with lock:
                        acknowledged.append((name, time.monotonic()))
                i += 1

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        time.sleep(1.5)
        began = time.monotonic()
        out = run("admin", "backup", "--to", os.path.join(folder, "backup"), "--data-dir", data)
        ended = time.monotonic()
        time.sleep(0.5)
        stop.set()
        for thread in threads:
            thread.join()
        before = {name for name, at in acknowledged if at < began}
        during = [name for name, at in acknowledged if began <= at <= ended]
        check("writes went on during the backup", len(during) > 0, f"{len(during)} acknowledged while it ran")
        check("the backup names what it took", "audit events" in out, out)

        restored = os.path.join(folder, "restored")
        out = run("admin", "restore", "--from", os.path.join(folder, "backup"), "--data-dir", restored)
        check("restore verifies the chain and the contents", "audit log intact" in out and "contents verified" in out, out)
        missing = before - recorded_files(restored)
        check(f"every upload acknowledged before the backup began is restored ({len(before)})", not missing and len(before) > 10,
              f"{len(missing)} missing, e.g. {sorted(missing)[:3]}")
        out = run("admin", "verify", "--data-dir", restored)
        check("mdp admin verify passes on the restored folder", "audit log intact" in out and "0 damaged" in out, out)
        out = run("admin", "restore", "--from", os.path.join(folder, "backup"), "--data-dir", restored, expect=3)
        check("a restore into a folder that holds data is refused", "not empty" in out, out)
        out = run("admin", "restore", "--from", os.path.join(folder, "backup"), "--data-dir", restored, "--replace")
        aside = [name for name in os.listdir(restored) if name.startswith(".before-restore-")]
        check("--replace sets the previous data aside, inside the data folder", len(aside) == 1 and
              os.path.exists(os.path.join(restored, aside[0], "mdp.sqlite")), out)
        out = run("admin", "verify", "--data-dir", os.path.join(folder, "backup"))
        out += run("admin", "restore", "--from", os.path.join(folder, "backup"), "--data-dir", os.path.join(folder, "again"))
        check("a backup checked with verify is left as it was, and still restores", "restored into" in out, out)
        out = run("admin", "verify", "--data-dir", os.path.join(folder, "no-such-folder"), expect=64)
        check("verify of a folder without an installation is refused, nothing made there",
              "no installation" in out and not os.path.exists(os.path.join(folder, "no-such-folder")), out)
        out = run("admin", "restore", "--from", os.path.join(folder, "backup"), "--data-dir", data, "--replace", expect=3)
        check("a restore over the folder of a running server is refused", "is using" in out, out)
        # --dated --keep rotates only its own finished backups, never another folder nor the one it just made.
        nightly = os.path.join(folder, "nightly")
        for name in ["mdp-pre-upgrade", "mdp-1-notes", "mdp-2020-01-01T000000Z"]:
            os.makedirs(os.path.join(nightly, name))
        open(os.path.join(nightly, "mdp-2020-01-01T000000Z", "manifest.json"), "w").write("{}")
        run("admin", "backup", "--dated", "--keep", "1", "--to", nightly, "--data-dir", data)
        left = sorted(os.listdir(nightly))
        check("--dated --keep rotates only its own backups", "mdp-pre-upgrade" in left and "mdp-1-notes" in left
              and "mdp-2020-01-01T000000Z" not in left and len(left) == 3, str(left))
        # A content altered in the backup is found.
        manifest = json.load(open(os.path.join(folder, "backup", "manifest.json")))
        victim = os.path.join(folder, "backup", manifest["blobs"][0]["path"])
        with open(victim, "r+b") as f:
            f.write(b"X")
        out = run("admin", "restore", "--from", os.path.join(folder, "backup"), "--data-dir", os.path.join(folder, "other"), expect=3)
        check("an altered backup is refused, nothing restored", "does not match" in out and not os.path.exists(os.path.join(folder, "other")),
              out)
    finally:
        server.process.kill()
        server.process.wait()


# 2. SIGTERM during uploads and writes.
def shutdown_in_flight():
    data = setup(os.path.join(folder, "term"))
    server = Server(data)
    token, laureate = prepare(server)
    outcomes = []  # (kind, name, "done" | "failed")
    lock = threading.Lock()
    started = threading.Barrier(4)

    def slow_upload(n):
        name = f"lent-{n}.txt"
        body = (f"{name} {os.urandom(8).hex()}\n" * 2600)[: 64 * 1024].encode()
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        try:
            connection.putrequest("POST", f"/v1/laureates/{laureate}/documents?kind=application&file_name={name}")
            connection.putheader("Authorization", f"Bearer {token}")
            connection.putheader("Content-Type", "application/octet-stream")
            connection.putheader("Content-Length", str(len(body) * 20))
            connection.endheaders()
            started.wait()
            for _ in range(20):  # about two seconds of sending
                connection.send(body)
                time.sleep(0.1)
            response = connection.getresponse()
            answer = response.read()
            state = "done" if response.status == 201 and json.loads(answer).get("file_name") == name else f"status {response.status}"
        except (OSError, http.client.HTTPException, ValueError):
            state = "failed"
        with lock:
            outcomes.append(("upload", name, state))

    def creations():
        started.wait()
        for n in range(1, 400):
            try:
                status, body = server.call("POST", "/v1/laureates", token, body=laureate_body(n))
                state = "done" if status == 201 else f"status {status}"
            except (OSError, http.client.HTTPException, ValueError):
                state = "failed"
            with lock:
                outcomes.append(("laureate", f"Manufacture {n}", state))
            if state != "done":
                break

    threads = [threading.Thread(target=slow_upload, args=(n,)) for n in range(3)] + [threading.Thread(target=creations)]
    for thread in threads:
        thread.start()
    time.sleep(0.8)
    server.process.send_signal(signal.SIGTERM)
    code = server.process.wait(timeout=60)
    for thread in threads:
        thread.join()
    check("the server exits 0 after SIGTERM", code == 0, f"exit {code}")
    uploads = [o for o in outcomes if o[0] == "upload"]
    check("uploads in flight at SIGTERM finish", all(o[2] == "done" for o in uploads), str(uploads))
    unclean = [o for o in outcomes if o[2] not in ("done", "failed") and not o[2].startswith("status 503")]
    check("every request completed or failed cleanly", not unclean, str(unclean[:5]))
    files = recorded_files(data)
    check("each completed upload is recorded", all(o[1] in files for o in uploads if o[2] == "done"), str(files))
    with sqlite3.connect(f"file:{os.path.join(data, 'mdp.sqlite')}?mode=ro", uri=True) as db:
        names = {row[0] for row in db.execute("SELECT name FROM laureate")}
        digests = {row[0] for row in db.execute("SELECT DISTINCT sha256 FROM document_version")}
    done = [o[1] for o in outcomes if o[0] == "laureate" and o[2] == "done"]
    check(f"each acknowledged creation is recorded ({len(done)})", all(name in names for name in done))
    blobs = os.path.join(data, "blobs")
    stored = {name for sub in os.listdir(blobs) if len(sub) == 2 for name in os.listdir(os.path.join(blobs, sub))}
    check("no content file without its record, no record without its content", stored == digests,
          f"orphans {len(stored - digests)}, missing {len(digests - stored)}")
    out = run("admin", "verify", "--data-dir", data)
    check("the chain and every content verify after the stop", "audit log intact" in out and "0 damaged" in out, out)
    log = open(server.log.name).read()
    check("the server says it stopped cleanly", "stopped: requests finished" in log, log[-500:])


# 3. An upload longer than SHUTDOWN_GRACE is cut when the grace ends: answered 503 or cut, nothing recorded, no error.
def shutdown_past_grace():
    data = setup(os.path.join(folder, "grace"))
    server = Server(data, grace="1")
    token, laureate = prepare(server)
    result = []

    def endless_upload():
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        try:
            connection.putrequest("POST", f"/v1/laureates/{laureate}/documents?kind=application&file_name=long.txt")
            connection.putheader("Authorization", f"Bearer {token}")
            connection.putheader("Content-Type", "application/octet-stream")
            connection.putheader("Content-Length", str(10_000_000))
            connection.endheaders()
            for _ in range(100):  # ten seconds of sending, far past the grace
                connection.send(b"ligne de texte\n" * 700)
                time.sleep(0.1)
            response = connection.getresponse()
            result.append(response.status)
        except (OSError, http.client.HTTPException):
            result.append("cut")

    thread = threading.Thread(target=endless_upload)
    thread.start()
    time.sleep(0.8)
    began = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    code = server.process.wait(timeout=60)
    stopped = time.monotonic() - began
    thread.join()
    check("past the grace the server stops anyway, exit 0", code == 0 and stopped < 10, f"exit {code} after {stopped:.1f} s")
    check("the upload cut at the end of the grace is answered 503 or cut", result in ([503], ["cut"]), str(result))
    check("nothing of it is recorded", "long.txt" not in recorded_files(data))
    log = open(server.log.name).read()
    check("a request cut by the shutdown is not logged as an unexpected error", "unexpected error" not in log, log[-800:])


os.environ["MDP_ADMIN_PASSWORD"] = "un long mot de passe ops"
backup_under_load()
shutdown_past_grace()
shutdown_in_flight()
if failures:
    sys.exit(f"ops-test: {len(failures)} failed: {failures}")
print("ops-test: all passed")
