#!/usr/bin/env python3
"""The team's exports read back by the tools the team uses: Python's csv as a French spreadsheet reads it, the
OpenDocument file unzipped and parsed, and LibreOffice (headless) opening both and printing them to PDF.

Starts `mdp serve --demo` on a free port, logs in as the demo's admin, downloads every report in both formats, and
checks them against the API's own answers: every laureate's ceiling and the sum of committed shares against budgets
and the programme summary, the directory's size against the public directory, events numbered without a gap and
narrowed by a period, ODS cells equal to CSV cells (amounts as numbers), and LibreOffice's conversions.
Usage: exports-test.py path/to/mdp. Exits non-zero on failure.
"""
import csv, io, json, os, subprocess, sys, tempfile, urllib.error, urllib.request, zipfile
import xml.etree.ElementTree as ET

from harness import finish, free_port, start_demo

binary = os.path.abspath(sys.argv[1])
folder = tempfile.mkdtemp(prefix="mdp-exports-")
failures = []
port = free_port()
base = f"http://127.0.0.1:{port}"


def check(name, condition, detail=""):
    print(f"exports-test: {'ok  ' if condition else 'FAILED'} {name}" + (f" ({detail})" if detail and not condition else ""))
    if not condition:
        failures.append(name)


def call(path, token=None, body=None):
    request = urllib.request.Request(base + path, data=json.dumps(body).encode() if body else None,
                                     headers={"Content-Type": "application/json"} if body else {})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=60) as reply:
            return reply.status, {k.lower(): v for k, v in reply.headers.items()}, reply.read()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


def every(path, token):
    items, cursor = [], None
    while True:
        status, _, data = call(path + ("&" if "?" in path else "?") + "limit=100" + (f"&cursor={cursor}" if cursor else ""), token)
        page = json.loads(data)
        items += page["items"]
        if not page.get("has_more"):
            return items
        cursor = page["next_cursor"]


def cents(text):
    """'1234,56' as a French spreadsheet reads it, in cents; '' is None."""
    if text == "":
        return None
    units, hundredths = text.split(",")
    sign = -1 if units.startswith("-") else 1
    return sign * (abs(int(units)) * 100 + int(hundredths))


def read_csv(data):
    check_bom = data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    return check_bom, text, rows


NS = {"table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0", "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
      "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0"}


def read_ods(data):
    archive = zipfile.ZipFile(io.BytesIO(data))
    names = [info.filename for info in archive.infolist()]
    first = archive.infolist()[0]
    mimetype_ok = first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED \
        and archive.read("mimetype") == b"application/vnd.oasis.opendocument.spreadsheet"
    root = ET.fromstring(archive.read("content.xml"))
    rows = []
    for row in root.iter(f"{{{NS['table']}}}table-row"):
        cells = []
        for cell in row.findall("table:table-cell", NS):
            kind = cell.get(f"{{{NS['office']}}}value-type")
            if kind in ("float", "currency"):
                cells.append(("number", cell.get(f"{{{NS['office']}}}value")))
            elif kind == "date":
                cells.append(("date", cell.get(f"{{{NS['office']}}}date-value")))
            elif kind == "string":
                cells.append(("text", "".join(cell.find("text:p", NS).itertext())))
            else:
                cells.append(("empty", ""))
        rows.append(cells)
    return mimetype_ok and "META-INF/manifest.xml" in names, rows


def libreoffice(path, target):
    out = os.path.join(folder, "pdf")
    os.makedirs(out, exist_ok=True)
    result = subprocess.run(
        ["soffice", "--headless", "--norestore", f"-env:UserInstallation=file://{folder}/lo-profile", "--convert-to", target,
         "--outdir", out, path], capture_output=True, timeout=180, env=dict(os.environ, HOME=folder))
    produced = os.path.join(out, os.path.splitext(os.path.basename(path))[0] + "." + target.split(":")[0])
    return result.returncode, produced, result.stderr.decode(errors="replace")


server = start_demo(binary, folder, port)
try:
    logins = {line.split()[0]: line.split()[1:3] for line in open(os.path.join(folder, "data", "demo-logins.txt")) if line.strip()}
    tokens = {}
    for role in ("admin", "laureate", "expert"):
        email, password = logins[role]
        tokens[role] = json.loads(call("/v1/auth/token", body={"email": email, "password": password})[2])["token"]
    admin = tokens["admin"]

    for role in ("laureate", "expert"):
        check(f"a {role} may not export", call("/v1/exports/budgets", tokens[role])[0] == 403)
    check("nobody anonymous may export", call("/v1/exports/budgets")[0] == 401)

    reports = {}
    for dataset in ("missions", "budgets", "directory", "reviews", "events"):
        status, headers, data = call(f"/v1/exports/{dataset}", admin)
        bom, text, rows = read_csv(data)
        check(f"{dataset}: CSV answered, with a BOM, a French header and CRLF lines",
              status == 200 and bom and text.endswith("\r\n") and "\r\n" in text and len(rows[0]) > 3
              and all(rows[0]) and len({len(row) for row in rows}) == 1, f"{status} {rows[:1]}")
        check(f"{dataset}: CSV sent chunked, as it is read", headers.get("transfer-encoding", "").lower() == "chunked", str(headers))
        status, headers, ods = call(f"/v1/exports/{dataset}?format=ods", admin)
        well_formed, sheet = read_ods(ods)
        check(f"{dataset}: ODS answered, mimetype first and stored", status == 200 and well_formed)
        check(f"{dataset}: ODS has the CSV's rows", len(sheet) == len(rows) and [c[1] for c in sheet[0]] == rows[0],
              f"{len(sheet)} vs {len(rows)}")
        mismatches = []
        for ods_row, csv_row in zip(sheet[1:], rows[1:]):
            for (kind, value), text_value in zip(ods_row, csv_row):
                if kind == "number" and "," in text_value:
                    same = round(float(value) * 100) == cents(text_value)
                elif kind == "number":
                    same = int(float(value)) == int(text_value)
                elif kind == "date":
                    same = value[:10] == "-".join(reversed(text_value[:10].split("/")))
                elif kind == "text":
                    same = text_value in (value, "'" + value)
                else:
                    same = text_value == ""
                if not same:
                    mismatches.append((kind, value, text_value))
        check(f"{dataset}: every ODS cell equals its CSV cell (numbers as numbers, dates as dates)", not mismatches, str(mismatches[:3]))
        path = os.path.join(folder, f"{dataset}.ods")
        open(path, "wb").write(ods)
        open(os.path.join(folder, f"{dataset}.csv"), "wb").write(data)
        reports[dataset] = rows

    # Against the API's own answers.
    laureates = every("/v1/laureates", admin)
    budgets = {row[1]: row for row in reports["budgets"][1:]}  # by SIRET
    check("budgets: one row per laureate", len(reports["budgets"]) - 1 == len(laureates))
    wrong = [l["name"] for l in laureates if cents(budgets.get(l["siret"], [""] * 7)[6]) != l["support_ceiling_cents"]]
    check("budgets: every ceiling equals the laureate's", not wrong, str(wrong[:3]))
    summary = json.loads(call("/v1/programme/summary", admin)[2])
    committed = sum(cents(row[7]) for row in reports["budgets"][1:])
    check("budgets: committed amounts add up to the programme summary's", committed == summary["budget"]["committed_cents"],
          f"{committed} vs {summary['budget']['committed_cents']}")
    header = reports["missions"][0]
    state, share = header.index("État"), header.index("Part du lauréat (€)")
    shares = sum(cents(row[share]) or 0 for row in reports["missions"][1:]
                 if row[state] in ("acceptée", "rapport remis", "clôturée", "interrompue"))
    check("missions: the shares of committed missions add up to the summary's", shares == summary["budget"]["committed_cents"],
          f"{shares} vs {summary['budget']['committed_cents']}")
    missions = every("/v1/missions?", admin)
    check("missions: every mission is there", {row[0] for row in reports["missions"][1:]} == {m["ref"] for m in missions})
    directory = json.loads(call("/v1/directory/experts?limit=1")[2])["total"]
    check("directory: as many rows as the public directory has experts", len(reports["directory"]) - 1 == directory)
    numbers = [int(row[0]) for row in reports["events"][1:]]
    check("events: numbered from 1 without a gap", numbers == list(range(1, len(numbers) + 1)) and len(numbers) > 200)
    day = reports["events"][1][1][:10]
    iso = "-".join(reversed(day.split("/")))
    narrowed = read_csv(call(f"/v1/exports/events?since={iso}&until={iso}", admin)[2])[2]
    check("events: a period narrows to its days", all(row[1].startswith(day) for row in narrowed[1:]) and len(narrowed) > 1)
    check("events: a period before anything is empty", len(read_csv(call("/v1/exports/events?until=2000-01-01", admin)[2])[2]) == 1)
    ratings = reports["reviews"]
    check("reviews: ratings are 1 to 5 and the mean is theirs",
          len(ratings) > 1 and all(1 <= int(r) <= 5 for row in ratings[1:] for r in row[5:10])
          and all(abs(sum(int(r) for r in row[5:10]) / 5 - cents(row[10]) / 100) < 0.006 for row in ratings[1:]))

    # LibreOffice opens what the team opens.
    for name in ("missions.ods", "budgets.ods", "missions.csv"):
        code, produced, errors = libreoffice(os.path.join(folder, name), "pdf")
        ok = code == 0 and os.path.exists(produced) and open(produced, "rb").read(5) == b"%PDF-" and os.path.getsize(produced) > 2000
        check(f"LibreOffice converts {name} to PDF", ok, errors[-300:])
        if os.path.exists(produced):
            os.remove(produced)
    code, produced, errors = libreoffice(os.path.join(folder, "budgets.ods"), 'csv:Text - txt - csv (StarCalc):59,34,76,1')
    back = list(csv.reader(open(produced, encoding="utf-8", newline=""), delimiter=";")) if code == 0 and os.path.exists(produced) else []
    check("LibreOffice reads the ODS ceilings as numbers", len(back) == len(reports["budgets"])
          and all(cell.replace(",", "").replace(".", "").replace("€", "").replace("\xa0", "").strip().isdigit() for cell in back[1][6:11]),
          str(back[1][6:11] if len(back) > 1 else errors[-300:]))
except Exception as error:
    check("the scenario ran to its end", False, repr(error))
finally:
    finish("exports-test", failures, folder, server)
