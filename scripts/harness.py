"""What the browser and export checks share: a free port, `mdp serve --demo` started and polled until ready, a
screenshot that is not blank. Imported by docs-browser.py, widget-browser.py and exports-test.py (same folder)."""
import os, shutil, socket, struct, subprocess, sys, time, urllib.request, zlib


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_demo(binary, folder, port, environment=None, deadline_seconds=120):
    """`mdp serve --demo` on `port` with its data under `folder`; returns the process once `/ready` answers (its log is
    `folder/serve.log`). Raises SystemExit when it does not become ready in time."""
    log = open(os.path.join(folder, "serve.log"), "ab")
    server = subprocess.Popen([binary, "serve", "--demo", "--port", str(port), "--data-dir", os.path.join(folder, "data")],
                              stdout=log, stderr=log, env=environment)
    deadline = time.monotonic() + deadline_seconds
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=1)
            return server
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise SystemExit(f"mdp serve did not become ready (see {folder}/serve.log)")
            time.sleep(0.2)


def not_blank(png):
    """A blank page compresses to almost nothing: its decoded pixels are one colour."""
    pixels, position = b"", 8
    while position < len(png):
        length, kind = struct.unpack(">I4s", png[position:position + 8])
        if kind == b"IDAT":
            pixels += png[position + 8:position + 8 + length]
        position += 12 + length
    raw = zlib.decompress(pixels) if pixels else b""
    return len(set(raw[::997])) > 4 and len(png) > 20000


def finish(name, failures, folder, server, log_tail=2000):
    """Stops the server, shows the end of its log when something failed, removes the folder, and exits accordingly."""
    server.terminate()
    server.wait()
    if failures:
        print(open(os.path.join(folder, "serve.log"), errors="replace").read()[-log_tail:])
    shutil.rmtree(folder, ignore_errors=True)
    if failures:
        sys.exit(f"{name}: {len(failures)} failed")
    print(f"{name}: all passed")
