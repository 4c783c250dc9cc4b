#!/usr/bin/env python3
"""A notice committed just before `kill -9` is sent after the restart (at least once, never zero times).

Starts a real SMTP server (scripts/smtp-sink.py) and `mdp serve --demo` with NOTIFY_INTERVAL=3600, so that after its
first pass the worker sleeps; a mission is requested (its notice committed in the outbox); the server is killed with
SIGKILL before any pass could send it, started again, and the message must arrive.
Usage: notify-crash.py path/to/mdp. Exits non-zero on failure.
"""
import email, email.policy, glob, json, os, signal, socket, subprocess, sys, tempfile, time, urllib.error, urllib.request

binary = sys.argv[1]
here = os.path.dirname(os.path.abspath(__file__))
folder = tempfile.mkdtemp(prefix="mdp-notify-crash-")
data, received = os.path.join(folder, "data"), os.path.join(folder, "smtp")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what, test, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = test()
        if value:
            return value
        time.sleep(0.1)
    sys.exit(f"notify-crash: {what} did not happen within {seconds} s (logs in {folder})")


smtp_port, port = free_port(), free_port()
base = f"http://127.0.0.1:{port}"
log = open(os.path.join(folder, "serve.log"), "ab")
sink = subprocess.Popen([sys.executable, os.path.join(here, "smtp-sink.py"), received, str(smtp_port)],
                        stdout=subprocess.DEVNULL, stderr=log)


def smtp_up():
    try:
        socket.create_connection(("127.0.0.1", smtp_port), 1).close()
        return True
    except OSError:
        return False


started = []


def start(interval):
    environment = {**os.environ, "SMTP_URL": f"smtp://127.0.0.1:{smtp_port}", "SMTP_FROM": "Équipe <equipe@ftl.fr>",
                   "APP_URL": "https://manufactures.example.fr", "NOTIFY_INTERVAL": str(interval)}
    process = subprocess.Popen([binary, "serve", "--demo", "--port", str(port), "--data-dir", data], stdout=log, stderr=log,
                               env=environment)
    started.append(process)

    def healthy():
        if process.poll() is not None:
            sys.exit(f"notify-crash: mdp serve exited ({process.returncode})")
        try:
            urllib.request.urlopen(base + "/health", timeout=1)
            return True
        except OSError:
            return False

    wait_for("mdp serve answering", healthy)
    return process


def call(method, path, token=None, body=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(base + path, data=json.dumps(body).encode() if body is not None else None,
                                     method=method, headers=headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def messages_about(mission_id):
    found = []
    for path in sorted(glob.glob(os.path.join(received, "*.eml"))):
        with open(path, "rb") as f:
            message = email.message_from_binary_file(f, policy=email.policy.default)
        if mission_id in message.get_body(("plain",)).get_content():
            found.append(message)
    return found


try:
    wait_for("the SMTP server answering", smtp_up)
    server = start(3600)
    # The first pass sends the demo's sample notices; after it the worker sleeps for an hour.
    wait_for("the demo's sample notices", lambda: len(glob.glob(os.path.join(received, "*.eml"))) >= 5)
    with open(os.path.join(data, "demo-logins.txt")) as f:
        _, admin, password = f.readline().split()
    token = call("POST", "/v1/auth/token", body={"email": admin, "password": password})["token"]
    laureate = call("GET", "/v1/laureates?limit=1", token)["items"][0]["id"]
    expert = call("GET", "/v1/directory/experts?limit=1")["items"][0]["expert_id"]
    mission = call("POST", "/v1/missions", token, {"title": "Avant la panne", "expert_id": expert, "laureate_ids": [laureate]})
    time.sleep(1)
    assert not messages_about(mission["id"]), "the notice was sent before the kill: the test proves nothing"
    server.send_signal(signal.SIGKILL)
    server.wait()
    server = start(1)
    arrived = wait_for("the notice after the restart", lambda: messages_about(mission["id"]))
    subject = arrived[0]["Subject"]
    assert subject.startswith("Nouvelle demande de mission : Avant la panne"), subject
    server.terminate()
    server.wait(timeout=30)
    print(f"notify-crash: the notice committed before kill -9 arrived after the restart ({len(arrived)} copy)")

    # `mdp notify once` (cron) lives on the programme's clock too: with the SMTP server down, a fresh notice is tried
    # again later (exit 1, "to try again"), not given up as if three days had passed since the programme's day.
    server = start(3600)
    # The worker passes once at start, then sleeps an hour: a request that raced that pass (and was sent) is made again.
    for attempt in range(3):
        pending = call("POST", "/v1/missions", token, {"title": f"Pendant la panne {attempt}", "expert_id": expert,
                                                       "laureate_ids": [laureate]})
        time.sleep(0.5)
        if not messages_about(pending["id"]):
            break
    server.terminate()
    server.wait(timeout=30)
    sink.terminate()
    sink.wait(timeout=30)
    once = subprocess.run([binary, "notify", "once", "--data-dir", data], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "SMTP_URL": f"smtp://127.0.0.1:{smtp_port}", "SMTP_FROM": "equipe@ftl.fr",
                               "PROGRAMME_TODAY": "2024-03-15"})
    assert once.returncode == 1 and "1 to try again, 0 failed" in once.stdout, (once.returncode, once.stdout, once.stderr)
    print("notify-crash: mdp notify once with the SMTP server down keeps the notice for later (exit 1)")
finally:
    for process in started:
        if process.poll() is None:
            process.kill()
    sink.terminate()
