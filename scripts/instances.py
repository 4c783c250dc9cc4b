#!/usr/bin/env python3
"""Two `mdp serve` instances over one PostgreSQL database, behind nginx (deploy/nginx/mdp.conf), tried from outside.

1. The programme's story (request, scope, propose, accept, report, review) with each step sent to the other instance.
2. Two acceptances for the last euros of one laureate, raced on the two instances: exactly one wins. Then one
   instance frozen (SIGSTOP): reads through nginx are still answered, within nginx's 30 s read timeout.
3. A write load through nginx while one instance is killed (`kill -9`): every acknowledged write is there afterwards,
   and nginx sends the rest to the instance left (the caller then checks the audit chain with `mdp audit verify`).

Usage: instances.py NGINX_URL A_URL B_URL DEMO_LOGINS_FILE PID_TO_KILL. Standard library only. Exits non-zero (an
assertion) when something does not hold; prints what it measured.
"""
import json
import os
import signal
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

nginx, first, second, logins_file, victim = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
logins = {}
for line in open(logins_file, encoding="utf-8"):
    parts = line.split()
    if len(parts) == 3 and parts[0] not in logins:
        logins[parts[0]] = (parts[1], parts[2])


def call(base, method, path, token=None, body=None, headers=None, timeout=30):
    """(status, headers, parsed JSON or None); HTTP errors are answers, not exceptions."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            raw = reply.read()
            return reply.status, dict(reply.headers), json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        return error.code, dict(error.headers), parsed


def login(role):
    email, password = logins[role]
    status, _, body = call(nginx, "POST", "/v1/auth/token", body={"email": email, "password": password})
    assert status == 201, (role, status, body)
    return body["token"]


laureate, expert, team = login("laureate"), login("expert"), login("admin")
laureate_id = call(first, "GET", "/v1/me", laureate)[2]["laureate_id"]
expert_id = call(second, "GET", "/v1/me", expert)[2]["expert_id"]
instances = [first, second]
turn = [0]


def alternate():
    turn[0] += 1
    return instances[turn[0] % 2]


def step(mission, token, body, base=None):
    base = base or alternate()
    etag = call(base, "GET", f"/v1/missions/{mission}", team)[1]["ETag"]
    return call(base, "POST", f"/v1/missions/{mission}/transitions", token, body, {"If-Match": etag})


def proposal(unit_price_cents):
    return {
        "action": "propose",
        "diagnostic": {"context": "Atelier partagé", "needs": "Modèle économique", "objectives": "Équilibre",
                       "method": "Ateliers", "deliverables": "Plan d'affaires", "start_on": "2024-04-01",
                       "end_on": "2024-06-30", "days_hundredths": 300},
        "quote": {"lines": [{"label": "Accompagnement", "quantity_hundredths": 100, "unit_price_cents": unit_price_cents}],
                  "vat_rate_basis_points": 2000, "valid_until": "2024-12-31"},
    }


def request(title):
    status, headers, body = call(alternate(), "POST", "/v1/missions", laureate,
                                 {"title": title, "expert_id": expert_id, "laureate_ids": [laureate_id]},
                                 {"Idempotency-Key": str(uuid.uuid4())})
    assert status == 201, (status, body)
    return body["id"]


# 1. The story, each step on the other instance.
mission = request("Modèle économique (deux instances)")
for body in [{"action": "scope"}, proposal(100_000)]:
    status, _, reply = step(mission, expert, body)
    assert status == 200, (body["action"], status, reply)
status, _, reply = step(mission, laureate, {"action": "accept"})
assert status == 200, ("accept", status, reply)
report = {"action": "report", "report": {"actions": "Trois ateliers", "deliverables": "Plan d'affaires",
                                         "days_spent_hundredths": 300, "results": "Modèle validé",
                                         "recommendations": "Suivi à six mois"}}
status, _, reply = step(mission, expert, report)
assert status == 200, ("report", status, reply)
review = {"action": "review", "review": {"ratings": {"expertise": 5, "listening": 5, "deliverables": 4, "deadlines": 4,
                                                     "usefulness": 5}, "would_recommend": True, "comments": "Très utile"}}
status, _, reply = step(mission, laureate, review)
assert status == 200 and reply["state"] == "closed", ("review", status, reply)
seen = [call(base, "GET", f"/v1/missions/{mission}", team) for base in instances]
assert all(s == 200 and b["state"] == "closed" for s, _, b in seen), seen
assert seen[0][1]["ETag"] == seen[1][1]["ETag"], "both instances answer the same revision"
print(f"instances: the story walked with its {turn[0]} calls alternating between the two instances")

# 2. The last euros, raced on the two instances.
remaining = call(first, "GET", f"/v1/laureates/{laureate_id}/budget", team)[2]["remaining_cents"]
price = remaining // 2  # before VAT: 60 % of what remains each with VAT, so one fits and two do not
assert price > 0, remaining
racing = []
for title in ["Foncier", "Juridique"]:
    m = request(title)
    for body in [{"action": "scope"}, proposal(price)]:
        status, _, reply = step(m, expert, body)
        assert status == 200, (status, reply)
    racing.append(m)
etags = [call(first, "GET", f"/v1/missions/{m}", team)[1]["ETag"] for m in racing]
results = [None, None]
start = threading.Barrier(2)


def accept(index):
    start.wait()
    results[index] = call(instances[index], "POST", f"/v1/missions/{racing[index]}/transitions", laureate,
                          {"action": "accept"}, {"If-Match": etags[index]})


threads = [threading.Thread(target=accept, args=(i,)) for i in range(2)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
statuses = sorted(result[0] for result in results)
assert statuses == [200, 409], [(r[0], r[2]) for r in results]
budget = call(second, "GET", f"/v1/laureates/{laureate_id}/budget", team)[2]
assert budget["remaining_cents"] >= 0, budget
print(f"instances: two acceptances raced on two instances for {remaining} cents left: {statuses}")

# 2b. One instance frozen (SIGSTOP: its socket still accepts connections, nothing answers). Reads through nginx are
# still answered: the one that meets the frozen instance within nginx's read timeout (30 s), by the other instance;
# the next ones at once, the frozen instance being skipped meanwhile.
os.kill(victim, signal.SIGSTOP)
try:
    durations = []
    for _ in range(4):
        began = time.monotonic()
        status = call(nginx, "GET", "/v1/me", laureate, timeout=90)[0]
        durations.append(round(time.monotonic() - began, 1))
        assert status == 200, ("a read through nginx with one instance frozen", status)
finally:
    os.kill(victim, signal.SIGCONT)
assert max(durations) < 40 and sorted(durations)[-2] < 5, ("reads waited on the frozen instance", durations)
print(f"instances: one instance frozen, reads through nginx answered in {durations} s")

# 3. Writes through nginx while one instance is killed.
acknowledged = []
failures = []
after_kill = [0]
killed = threading.Event()
lock = threading.Lock()
stop = time.monotonic() + 8


def writer(number):
    while time.monotonic() < stop:
        key = str(uuid.uuid4())
        body = {"needs": [{"subtheme": "4.2", "priority": "high", "description": f"charge {number} {key[:8]}"}]}
        status, _, reply = call(nginx, "POST", f"/v1/laureates/{laureate_id}/framing-notes", laureate, body,
                                {"Idempotency-Key": key})
        with lock:
            if status == 201:
                acknowledged.append(reply["version"])
                if killed.is_set():
                    after_kill[0] += 1
            else:
                failures.append((status, key, body))


workers = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
for worker in workers:
    worker.start()
time.sleep(2.5)  # a load under way before the kill (a measured moment, not a wait for a server)
os.kill(victim, signal.SIGKILL)
killed.set()
for worker in workers:
    worker.join()
# A client retries what failed with the same key: the retry runs (nothing was applied), or is held off while the dead
# instance's claim lasts (409) — never applied twice.
retried = [call(nginx, "POST", f"/v1/laureates/{laureate_id}/framing-notes", laureate, body, {"Idempotency-Key": key})
           for _, key, body in failures]
assert all(status in (201, 409) for status, _, _ in retried), [(s, b) for s, _, b in retried]
versions = set()
descriptions = []
cursor = ""
while True:
    notes = call(nginx, "GET", f"/v1/laureates/{laureate_id}/framing-notes?limit=100{cursor}", team)[2]
    versions |= {item["version"] for item in notes["items"]}
    descriptions += [need["description"] for item in notes["items"] for need in item["needs"]]
    if not notes.get("has_more"):
        break
    cursor = "&cursor=" + urllib.parse.quote(notes["next_cursor"])
doubled = [d for d in set(descriptions) if descriptions.count(d) > 1]
assert not doubled, f"applied twice: {doubled}"
missing = sorted(set(acknowledged) - versions)
assert not missing, f"acknowledged writes lost: {missing}"
assert after_kill[0] > 0, "nothing was written through nginx after the kill"
# Only requests in flight on the killed instance may fail (502); nginx sends the others to the instance left.
assert len(failures) <= 8, failures
print(f"instances: {len(acknowledged)} writes acknowledged under load ({after_kill[0]} after the kill -9), "
      f"{len(failures)} failed in flight {sorted({f[0] for f in failures})}, none lost, none applied twice "
      f"(retries: {sorted(r[0] for r in retried)})")
