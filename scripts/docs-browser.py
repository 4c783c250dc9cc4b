#!/usr/bin/env python3
"""/docs opened in a real browser that can reach no other host: it must render the contract, not a blank page.

Starts `mdp serve --demo` on a free port, opens /docs in headless Chromium (Debian's `chromium`) with every host but
127.0.0.1 unresolvable, and checks the rendered DOM names every operation of openapi.yaml with its roles and example,
and that the screenshot is not blank. With a second argument, keeps the screenshot there (README's image).
Usage: docs-browser.py path/to/mdp [screenshot.png]. Exits non-zero on failure.
"""
import os, re, shutil, subprocess, sys, tempfile

from harness import free_port, not_blank, start_demo

binary = os.path.abspath(sys.argv[1])
keep = sys.argv[2] if len(sys.argv) > 2 else None
folder = tempfile.mkdtemp(prefix="mdp-docs-")
port = free_port()
base = f"http://127.0.0.1:{port}"
failures = []


def check(name, condition, detail=""):
    print(f"docs-browser: {'ok  ' if condition else 'FAILED'} {name}" + (f" ({detail})" if detail and not condition else ""))
    if not condition:
        failures.append(name)


def chromium(*arguments):
    command = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
               "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", f"--user-data-dir={folder}/profile", *arguments]
    return subprocess.run(command, capture_output=True, timeout=120)


server = start_demo(binary, folder, port)
try:
    contract = open(os.path.join(os.path.dirname(__file__), "..", "openapi.yaml"), encoding="utf-8").read()
    operations = re.findall(r"^\s+operationId: (\w+)$", contract, re.M)
    dom = chromium("--virtual-time-budget=5000", "--dump-dom", base + "/docs").stdout.decode("utf-8", "replace")
    text = re.sub(r"<[^>]+>", " ", re.sub(r"<style.*?</style>", "", dom, flags=re.S))
    check("the rendered page is not blank", len(text.split()) > 5000, f"{len(text.split())} words")
    missing = [op for op in operations if f'id="{op}"' not in dom]
    check(f"every operation of the contract is on the page ({len(operations)})", not missing and len(operations) > 50, str(missing[:5]))
    check("each operation shows its roles", dom.count("<strong>Roles:</strong>") == len(operations))
    check("each operation shows an example", dom.count("<h4>Example</h4>") == len(operations))
    check("no script on the page", "<script" not in dom)
    shot = os.path.join(folder, "docs.png")
    chromium("--window-size=1280,900", "--virtual-time-budget=5000", f"--screenshot={shot}", base + "/docs")
    png = open(shot, "rb").read() if os.path.exists(shot) else b""
    check("the screenshot is not blank", not_blank(png), f"{len(png)} bytes")
    if keep and png:
        shutil.copyfile(shot, keep)
finally:
    server.terminate()
    server.wait()
    shutil.rmtree(folder, ignore_errors=True)
if failures:
    sys.exit(f"docs-browser: {len(failures)} failed")
print("docs-browser: all passed")
