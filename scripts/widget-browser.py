#!/usr/bin/env python3
"""The directory widget as another site's visitors get it: embedded in a page of another origin, driven by keyboard.

Starts `mdp serve --demo` on a free port with `HTTP_CORS_ORIGINS` naming one other origin, serves two host pages from
two more ports (the allowed origin, and one that is not), and drives headless Chromium (Debian's `chromium`) through
its DevTools protocol over a pipe, with every host but 127.0.0.1 unresolvable. Checks: the presets (région, page size)
and the first results equal the API's answer; Tab reaches the search box, typed text and Enter search, and the results
equal the API's for that query; "more" appends the next page and moves focus to its first expert; every control has a
label; CSS custom properties style it; every API answer the browser read carried `Access-Control-Allow-Origin` for the
page's origin and nothing was fetched from another host; on a page of an origin not allowed, the browser refuses the
answers and the widget says so. With a second argument, keeps the screenshot there (README's image).
Usage: widget-browser.py path/to/mdp [screenshot.png]. Exits non-zero on failure.
"""
import base64, http.server, json, os, subprocess, sys, tempfile, threading, time
import urllib.parse, urllib.request

from harness import finish, free_port, not_blank, start_demo

binary = os.path.abspath(sys.argv[1])
keep = sys.argv[2] if len(sys.argv) > 2 else None
folder = tempfile.mkdtemp(prefix="mdp-widget-")
failures = []


def check(name, condition, detail=""):
    print(f"widget-browser: {'ok  ' if condition else 'FAILED'} {name}" + (f" ({detail})" if detail and not condition else ""))
    if not condition:
        failures.append(name)


api_port, page_port, foreign_port = free_port(), free_port(), free_port()
api = f"http://127.0.0.1:{api_port}"
allowed_origin = f"http://127.0.0.1:{page_port}"
foreign_origin = f"http://127.0.0.1:{foreign_port}"

HOST_PAGE = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>Un site partenaire</title>
<style>mdp-annuaire {{ --mdp-accent: rgb(200, 0, 0); --mdp-radius: 9px; }}</style>
<script src="{api}/widget/v1/annuaire.js" defer></script></head>
<body><h1>Trouver un expert près de chez vous</h1>
<mdp-annuaire region="84" page-size="4"></mdp-annuaire></body></html>
"""


class HostPage(http.server.BaseHTTPRequestHandler):
    """`/`: the partner's page; `/strict`: the same under a Content-Security-Policy that allows no inline style."""

    def do_GET(self):
        body = HOST_PAGE.format(api=api).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        if self.path.startswith("/strict"):
            self.send_header("Content-Security-Policy", f"default-src 'self'; script-src {api}; connect-src {api}; style-src 'self'")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *arguments):
        pass


class DevTools:
    """Chromium's DevTools protocol over --remote-debugging-pipe: JSON messages ended by NUL on fds 3 (in) and 4 (out)."""

    def __init__(self, profile):
        to_browser_r, self.to_browser = os.pipe()
        self.from_browser, from_browser_w = os.pipe()
        arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
                     "--remote-debugging-pipe", "--window-size=1200,1400", f"--user-data-dir={profile}",
                     "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "about:blank"]
        self.process = subprocess.Popen(
            ["sh", "-c", f'exec chromium "$@" 3<&{to_browser_r} 4>&{from_browser_w} {to_browser_r}<&- {from_browser_w}>&-',
             "chromium", *arguments],
            pass_fds=(to_browser_r, from_browser_w), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self.next_id = 0
        self.replies = {}
        self.events = []
        self.condition = threading.Condition()
        threading.Thread(target=self.read, daemon=True).start()

    def read(self):
        buffer = b""
        while True:
            chunk = os.read(self.from_browser, 65536)
            if not chunk:
                return
            buffer += chunk
            while b"\0" in buffer:
                message, buffer = buffer.split(b"\0", 1)
                decoded = json.loads(message)
                with self.condition:
                    if "id" in decoded:
                        self.replies[decoded["id"]] = decoded
                    else:
                        self.events.append(decoded)
                    self.condition.notify_all()

    def send(self, method, params=None, session=None, timeout=30):
        with self.condition:
            self.next_id += 1
            ident = self.next_id
        message = {"id": ident, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        with self.condition:
            while ident not in self.replies:
                if not self.condition.wait(timeout=max(0, deadline - time.monotonic())):
                    raise TimeoutError(method)
            reply = self.replies.pop(ident)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def wait_event(self, method, timeout=30):
        deadline = time.monotonic() + timeout
        with self.condition:
            while True:
                for index, event in enumerate(self.events):
                    if event.get("method") == method:
                        return self.events.pop(index)
                if not self.condition.wait(timeout=max(0, deadline - time.monotonic())):
                    raise TimeoutError(method)

    def close(self):
        try:
            self.send("Browser.close", timeout=5)
        except Exception:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


class Tab:
    def __init__(self, browser):
        self.browser = browser
        target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Network"):
            self.send(f"{domain}.enable")

    def send(self, method, params=None):
        return self.browser.send(method, params, session=self.session)

    def navigate(self, url):
        with self.browser.condition:
            self.browser.events.clear()
        self.send("Page.navigate", {"url": url})
        self.browser.wait_event("Page.loadEventFired")

    def evaluate(self, expression):
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression[:60]}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def until(self, expression, what, timeout=20):
        """Polls `expression` (true when done) with a deadline; returns its last value."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(what)
            time.sleep(0.1)

    def key(self, key, code, keycode, text=None):
        down = {"type": "keyDown", "key": key, "code": code, "windowsVirtualKeyCode": keycode}
        if text:
            down["text"] = text
        self.send("Input.dispatchKeyEvent", down)
        self.send("Input.dispatchKeyEvent", {"type": "keyUp", "key": key, "code": code, "windowsVirtualKeyCode": keycode})


STATE = """(() => {
  const root = document.querySelector('mdp-annuaire').shadowRoot;
  if (!root) return null;
  const status = root.querySelector('[role=status]');
  return {
    status: status ? status.textContent : '',
    names: [...root.querySelectorAll('article h3')].map(h => h.textContent),
    ids: [...root.querySelectorAll('article')].map(a => a.dataset.expertId),
    region: root.querySelector('select[name=region]').value,
    focused: document.activeElement && document.activeElement.localName,
    inner: root.activeElement ? (root.activeElement.getAttribute('name') || root.activeElement.localName) : null,
    more: !root.querySelector('button.more').hidden,
    busy: root.querySelector('ul').getAttribute('aria-busy'),
  };
})()"""


def api_names(query):
    with urllib.request.urlopen(f"{api}/v1/directory/experts?{urllib.parse.urlencode(query)}", timeout=10) as reply:
        page = json.load(reply)
    return [f"{item['first_name']} {item['last_name']}" for item in page["items"]], page


environment = dict(os.environ, HTTP_CORS_ORIGINS=allowed_origin)
server = start_demo(binary, folder, api_port, environment)
pages = [http.server.ThreadingHTTPServer(("127.0.0.1", port), HostPage) for port in (page_port, foreign_port)]
for page in pages:
    threading.Thread(target=page.serve_forever, daemon=True).start()
browser = None
try:
    script = urllib.request.urlopen(api + "/widget/v1/annuaire.js", timeout=10)
    source = script.read().decode()
    check("the script is served as JavaScript under a versioned path",
          script.headers["Content-Type"].startswith("text/javascript") and "customElements.define(\"mdp-annuaire\"" in source)
    check("the script writes no markup from data (no innerHTML, no eval)",
          not any(word in source for word in ("innerHTML", "outerHTML", "insertAdjacentHTML", "eval(", "document.write")))
    check("the script loads nothing from another host", "http://" not in source.replace("http://127.0.0.1", "")
          and "https://" not in source.split("*/", 1)[1])

    browser = DevTools(os.path.join(folder, "profile"))
    tab = Tab(browser)
    tab.navigate(allowed_origin + "/")
    state = tab.until(STATE.replace("return {", "if (!root.querySelector('article')) return null; return {"), "first results")
    expected, first_page = api_names({"region": "84", "limit": 4})
    check("the presets apply: région 84, 4 per page", state["region"] == "84" and len(state["names"]) == 4, str(state))
    check("the first results are the API's for the presets", state["names"] == expected, f"{state['names']} vs {expected}")
    check("the status says how many, in French", f"{first_page['total']} experts trouvés" in state["status"].replace("\u202f", " ")
          .replace("\xa0", " "), state["status"])

    labels = tab.evaluate("""(() => { const root = document.querySelector('mdp-annuaire').shadowRoot;
      return [...root.querySelectorAll('input, select')].map(c => c.labels.length > 0 && c.labels[0].textContent.trim().length > 0); })()""")
    check("every control has a visible label", labels and all(labels), str(labels))
    check("the form is a search landmark and results are announced",
          tab.evaluate("""(() => { const root = document.querySelector('mdp-annuaire').shadowRoot;
            return !!root.querySelector('form[role=search][aria-label]') && root.querySelector('[role=status]').getAttribute('aria-live') === 'polite'; })()"""))
    accent = tab.evaluate("""getComputedStyle(document.querySelector('mdp-annuaire').shadowRoot.querySelector('button[type=submit]')).backgroundColor""")
    check("CSS custom properties style it", accent == "rgb(200, 0, 0)", accent)

    # Keyboard only: Tab reaches the search box first, type, Enter. Each answer shown fires `mdp-results`.
    tab.evaluate("""window.__shown = 0; document.querySelector('mdp-annuaire').addEventListener('mdp-results', () => window.__shown++)""")
    tab.key("Tab", "Tab", 9)
    state = tab.evaluate(STATE)
    check("Tab reaches the search box first", state["focused"] == "mdp-annuaire" and state["inner"] == "q", str(state))
    tab.send("Input.insertText", {"text": "atelier"})
    tab.key("Enter", "Enter", 13, "\r")
    tab.until("window.__shown >= 1", "search results")
    state = tab.evaluate(STATE)
    expected, searched = api_names({"q": "atelier", "region": "84", "limit": 4})
    check("typing and Enter search; results are the API's", expected and state["names"] == expected, f"{state['names']} vs {expected}")
    tab.evaluate("window.scrollTo(0, 0)")
    shot = base64.b64decode(tab.send("Page.captureScreenshot", {"format": "png"})["data"])
    check("the screenshot is not blank", not_blank(shot), f"{len(shot)} bytes")
    if keep:
        with open(keep, "wb") as file:
            file.write(shot)

    if searched["has_more"]:
        tab.evaluate("document.querySelector('mdp-annuaire').shadowRoot.querySelector('button.more').focus()")
        tab.key("Enter", "Enter", 13, "\r")
        tab.until("window.__shown >= 2", "next page")
        state = tab.evaluate(STATE)
        rest, _ = api_names({"q": "atelier", "region": "84", "limit": 4, "cursor": searched["next_cursor"]})
        check("more appends the next page", state["names"] == expected + rest, f"{state['names']}")
        check("focus moves to the first new expert", state["inner"] == "article", str(state["inner"]))
    else:
        check("the search has a second page to try", False, f"total {searched['total']}")

    responses = [e["params"]["response"] for e in browser.events if e.get("method") == "Network.responseReceived"]
    calls = [r for r in responses if r["url"].startswith(api + "/v1/")]
    origins = {({k.lower(): v for k, v in r["headers"].items()}).get("access-control-allow-origin") for r in calls}
    check("every API answer carried the page's origin in Access-Control-Allow-Origin", calls and origins == {allowed_origin},
          str(origins))
    hosts = {urllib.parse.urlsplit(r["url"]).netloc for r in responses if r["url"].startswith("http")}
    check("nothing was fetched from another host", hosts <= {f"127.0.0.1:{api_port}", f"127.0.0.1:{page_port}"}, str(hosts))

    # A search sent while another runs wins: the first answer, held back by the browser, comes last and is ignored.
    tab.navigate(allowed_origin + "/")
    tab.until(STATE.replace("return {", "if (!root.querySelector('article')) return null; return {"), "first results")
    tab.send("Fetch.enable", {"patterns": [{"urlPattern": "*q=bois*", "requestStage": "Request"}]})
    tab.evaluate("""window.__shown = 0; document.querySelector('mdp-annuaire').addEventListener('mdp-results', () => window.__shown++);
      (() => { const root = document.querySelector('mdp-annuaire').shadowRoot; const q = root.querySelector('input[name=q]');
               q.focus(); q.value = 'bois'; })()""")
    tab.key("Enter", "Enter", 13, "\r")
    held = browser.wait_event("Fetch.requestPaused")["params"]["requestId"]
    tab.evaluate("""(() => { const q = document.querySelector('mdp-annuaire').shadowRoot.querySelector('input[name=q]'); q.value = 'textile'; })()""")
    tab.key("Enter", "Enter", 13, "\r")
    tab.until("window.__shown >= 1", "the second search's results")
    tab.send("Fetch.continueRequest", {"requestId": held})
    tab.send("Fetch.disable")
    # The held answer arrives (the browser finished loading it), then the page runs what it triggers: it must change nothing.
    late = None
    while late is None:
        received = browser.wait_event("Network.responseReceived")["params"]
        late = received["requestId"] if "q=bois" in received["response"]["url"] else None
    while browser.wait_event("Network.loadingFinished")["params"]["requestId"] != late:
        pass
    tab.evaluate("new Promise(resolve => setTimeout(resolve, 0))")
    state = tab.evaluate(STATE)
    expected, _ = api_names({"q": "textile", "region": "84", "limit": 4})
    check("a search sent during another shows its own results, not the late one's", state["names"] == expected, f"{state['names']} vs {expected}")

    # The lists fail to load once: the message invites a retry, and Enter retries.
    tab.send("Fetch.enable", {"patterns": [{"urlPattern": "*/v1/taxonomy*", "requestStage": "Request"}]})
    tab.send("Page.navigate", {"url": allowed_origin + "/?retry"})
    failed = browser.wait_event("Fetch.requestPaused")["params"]["requestId"]
    tab.send("Fetch.failRequest", {"requestId": failed, "errorReason": "ConnectionRefused"})
    tab.send("Fetch.disable")
    state = tab.until(STATE.replace("return {", "if (!root.querySelector('[role=status]').textContent) return null; return {"), "the failure")
    check("a failed load says the directory does not answer", "ne répond pas" in state["status"], str(state))
    tab.evaluate("""window.__shown = 0; document.querySelector('mdp-annuaire').addEventListener('mdp-results', () => window.__shown++);
      document.querySelector('mdp-annuaire').shadowRoot.querySelector('input[name=q]').focus()""")
    tab.key("Enter", "Enter", 13, "\r")
    tab.until("window.__shown >= 1", "the retry's results")
    state = tab.evaluate(STATE)
    expected, _ = api_names({"region": "84", "limit": 4})
    check("Enter after a failed load retries, and the presets apply", state["names"] == expected and state["region"] == "84", str(state))

    # A host page whose policy allows no inline style: the widget keeps its styles (a constructed style sheet).
    tab.navigate(allowed_origin + "/strict")
    tab.until(STATE.replace("return {", "if (!root.querySelector('article')) return null; return {"), "results on the strict page")
    layout = tab.evaluate("""(() => { const root = document.querySelector('mdp-annuaire').shadowRoot;
      return [getComputedStyle(root.querySelector('form')).display, root.querySelector('[lang]') && root.querySelector('[lang]').lang]; })()""")
    check("under a strict host policy the widget keeps its styles, and says it is French", layout == ["grid", "fr"], str(layout))

    # The demo page the instance serves: both widgets render under its strict Content-Security-Policy.
    tab.navigate(api + "/widget/v1/demo.html")
    counts = tab.until("""(() => { const all = [...document.querySelectorAll('mdp-annuaire')].map(w => w.shadowRoot
        ? w.shadowRoot.querySelectorAll('article').length : 0); return all.every(n => n > 0) ? all : null; })()""", "the demo page")
    check("the demo page shows both widgets with their page sizes", counts == [5, 3], str(counts))

    # An origin the instance does not allow: the browser withholds the answers, and the widget says so.
    tab.navigate(foreign_origin + "/")
    state = tab.until(STATE.replace("return {", "if (!root.querySelector('[role=status]').textContent) return null; return {"),
                      "the foreign page's status")
    check("a page of an origin not allowed gets no results and a message",
          not state["names"] and "ne répond pas" in state["status"], str(state))
except Exception as error:
    check("the scenario ran to its end", False, repr(error))
finally:
    if browser:
        browser.close()
    for page in pages:
        page.shutdown()
    finish("widget-browser", failures, folder, server, log_tail=3000)
