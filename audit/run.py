"""`make audit`: the independent tools a council's IT team would point at a hub, run against a real one.

Starts a Mosquitto and ``turnout-hub serve`` on the sample season (``turnout-hub seed-sample``),
signs in to the admin, then runs

- **Lighthouse** (npm ``lighthouse``, Debian's Chromium), mobile and desktop, on the home, event,
  person, leaderboard, impact and register pages;
- the **Nu Html Checker** (npm ``vnu-jar``, Debian's Java) on every public and admin page
  (crawled from ``/`` and ``/admin``, plus error and form-error pages) and the stylesheets;
- **schemathesis** on the JSON API (``/openapi.json``) with every check.

It prints one table and exits 1 when a score is below the bar (Lighthouse accessibility, best
practices and SEO 100, performance at least 95; Nu 0 errors; schemathesis 0 failures), 0 when
all pass, and 3 when the tools cannot be installed (0 with ``--skip-if-unavailable``, as
``make test`` runs it, after saying so). ``--quick`` is the shorter set ``make test`` runs.
Reports (Lighthouse JSON, Nu messages, schemathesis' JSON) are kept in ``var/audit/``.
"""

from __future__ import annotations

import argparse
import html.parser
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

HERE = ROOT / "audit"
NODE_MODULES = HERE / "node_modules"
LIGHTHOUSE = NODE_MODULES / "lighthouse" / "cli" / "index.js"
VNU_JAR = NODE_MODULES / "vnu-jar" / "build" / "dist" / "vnu.jar"
CHROMIUM = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
CHROMIUM_FLAGS = "--headless --no-sandbox --disable-gpu --disable-background-networking"
ADMIN_PASSWORD = "audit-only-password"  # a throwaway hub in a temporary directory

# The bar: below any of these the audit fails.
LIGHTHOUSE_MINIMUM = {"performance": 95, "accessibility": 100, "best-practices": 100, "seo": 100}
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")

# Lighthouse pages (name: how to find the path once the hub runs), each on mobile and desktop.
LIGHTHOUSE_PAGES = ("home", "impact", "event", "person", "person-cy", "leaderboard", "register")
# Pages audited in Welsh too: "<page>-cy" is <page> with the language cookie the switcher sets.
WELSH = {"Cookie": "turnout_lang=cy"}
# --quick (make test): the heaviest page, both ways (the others in the full audit).
QUICK_RUNS = (("impact", "desktop"), ("impact", "mobile"))
# Lighthouse's mobile run slows the CPU 4x, which takes "a typical run in the high-end desktop
# bracket" (benchmark index 1500-2000) to a mid-tier phone. On a slower or busy machine that
# overshoots; Lighthouse then warns and says to calibrate (docs/throttling.md, "Calibrating the
# CPU slowdown"). We do: the multiplier that takes this machine's index, measured by the desktop
# run just before, to the same phone (1750 / 4), never more than Lighthouse's 4 nor less than 1;
# when the mobile run measures the machine slower than that, it runs again at its own measure.
MOBILE_TARGET_INDEX = 1750 / 4

# Crawling for the Nu checker: not pages (downloads, feeds, the API) or not GET-able.
NOT_PAGES = re.compile(r"\.(pdf|csv|json|ics|xml|txt|svg|png|ico|css|js)$|^/(api|static|metrics)/"
                       r"|^/admin/logout$|^/language/")  # the switcher sets a cookie: Welsh is checked apart
PER_KIND = 2  # pages crawled per kind of address ("/events/*", "/admin/people/*", "?season")
MAX_PAGES = 120


class Unavailable(Exception):
    """A tool the audit needs is missing and could not be installed."""


# --- Tools ------------------------------------------------------------------------------------

# npm's codes for a registry it cannot reach: the only npm failures that skip the audit.
NETWORK_ERRORS = ("ENOTFOUND", "EAI_AGAIN", "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "ENETUNREACH", "EHOSTUNREACH")


def ensure_tools() -> None:
    """Node, npm's packages (installed once, from package-lock.json), Java and Chromium."""
    for name, found in (("node (Node.js)", shutil.which("node")), ("java (a Java runtime)", shutil.which("java")),
                        (f"Chromium at {CHROMIUM}", os.path.exists(CHROMIUM))):
        if not found:
            raise Unavailable(f"{name} is not installed")
    try:
        import schemathesis  # noqa: F401
    except ImportError as missing:
        raise Unavailable("schemathesis is not installed in the venv (pip install -e '.[test]')") from missing
    if LIGHTHOUSE.exists() and VNU_JAR.exists():
        return
    if not shutil.which("npm"):
        raise Unavailable("npm is not installed")
    print("Installing Lighthouse and the Nu Html Checker (npm ci, once)…", flush=True)
    # --ignore-scripts: vnu-jar's post-install would fetch a Java of its own; we use Debian's.
    done = subprocess.run(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=HERE,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600)
    if done.returncode != 0 or not (LIGHTHOUSE.exists() and VNU_JAR.exists()):
        errors = [line for line in done.stdout.splitlines() if line.strip() not in ("npm error", "")]
        tail = "\n".join(errors[-8:])
        if any(code in done.stdout for code in NETWORK_ERRORS):
            raise Unavailable(f"npm could not reach its registry:\n{tail}")
        # Anything else (a lock file out of step with package.json, say) is ours to fix: fail, don't skip.
        raise SystemExit(f"AUDIT FAILED: npm ci could not install the tools from audit/package-lock.json:\n{tail}")


# --- The hub under audit ------------------------------------------------------------------------

@dataclass
class Hub:
    base: str
    proc: subprocess.Popen
    broker: object
    workdir: Path

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.broker.stop()


def start_hub(workdir: Path) -> Hub:
    """``turnout-hub serve`` on a sample season, with its own Mosquitto, on a free port."""
    from turnout.local_broker import Broker, free_port

    db = workdir / "hub.sqlite"
    hub_cli = [sys.executable, "-m", "hub.cli", "--db", str(db)]
    subprocess.run(hub_cli + ["seed-sample"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    broker = Broker(workdir / "mosquitto").start()
    port = free_port()
    env = {**os.environ, "TURNOUT_HUB_ADMIN_PASSWORD": ADMIN_PASSWORD}
    log = open(workdir / "hub.log", "ab")
    proc = subprocess.Popen(hub_cli + ["serve", "--broker", broker.url, "--http", f"127.0.0.1:{port}"],
                            cwd=ROOT, env=env, stdout=log, stderr=log)
    hub = Hub(f"http://127.0.0.1:{port}", proc, broker, workdir)
    import httpx

    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            broker.stop()
            raise RuntimeError(f"the hub stopped while starting: see {workdir / 'hub.log'}")
        try:
            if httpx.get(hub.base + "/", timeout=2).status_code == 200:
                return hub
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            hub.stop()
            raise RuntimeError("the hub did not answer within a minute")
        time.sleep(0.3)


def sample_paths(base: str) -> dict[str, str]:
    """Where the pages Lighthouse visits are on this sample season."""
    import httpx

    from datetime import date

    events = httpx.get(base + "/api/v1/events").json()
    today = date.today().isoformat()
    held = [e for e in events if e["date"] <= today]
    top = httpx.get(base + "/api/v1/leaderboard?limit=1").json()
    paths = {"home": "/", "event": f"/events/{held[-1]['id']}", "person": f"/people/{top[0]['badge']}",
             "leaderboard": "/leaderboard", "impact": "/impact", "register": "/register"}
    return {**paths, **{f"{page}-cy": path for page, path in paths.items()}}


# --- Lighthouse ---------------------------------------------------------------------------------

@dataclass
class LighthouseResult:
    page: str
    path: str
    form_factor: str
    scores: dict[str, int | None]
    failing: list[str] = field(default_factory=list)  # audits below full marks, for the reader
    error: str = ""
    benchmark_index: float = 0.0  # Lighthouse's measure of this machine's CPU during the run
    cpu_slowdown: float = 1.0

    def passes(self) -> bool:
        return not self.error and all((self.scores.get(c) or 0) >= m for c, m in LIGHTHOUSE_MINIMUM.items())


def cpu_slowdown(benchmark_index: float) -> float:
    """The mobile run's CPU multiplier for a machine of this benchmark index (see above)."""
    if not benchmark_index:
        return 4.0
    return round(min(4.0, max(1.0, benchmark_index / MOBILE_TARGET_INDEX)), 1)


def lighthouse(base: str, page: str, path: str, form_factor: str, out: Path,
               slowdown: float = 4.0, tries: int = 2) -> LighthouseResult:
    """One Lighthouse run; tried again once when Lighthouse itself fails (a lost trace)."""
    report = out / f"lighthouse-{page}-{form_factor}.json"
    report.unlink(missing_ok=True)
    cmd = ["node", str(LIGHTHOUSE), base + path, "--output=json", f"--output-path={report}", "--quiet",
           f"--chrome-flags={CHROMIUM_FLAGS}", "--only-categories=" + ",".join(CATEGORIES)]
    if page.endswith("-cy"):
        cmd.append("--extra-headers=" + json.dumps(WELSH))
    if form_factor == "desktop":
        cmd.append("--preset=desktop")
    else:
        cmd.append(f"--throttling.cpuSlowdownMultiplier={slowdown}")
    done = subprocess.run(cmd, env={**os.environ, "CHROME_PATH": CHROMIUM}, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=300)
    data = json.loads(report.read_text()) if done.returncode == 0 and report.exists() else None
    if data is None or data.get("runtimeError"):
        if tries > 1:
            return lighthouse(base, page, path, form_factor, out, slowdown, tries - 1)
        error = data["runtimeError"]["message"] if data else done.stdout.strip()[-500:]
        return LighthouseResult(page, path, form_factor, {}, error=error)
    scores = {c: None if data["categories"][c]["score"] is None else round(100 * data["categories"][c]["score"])
              for c in CATEGORIES}
    failing = []
    for c in CATEGORIES:
        for ref in data["categories"][c]["auditRefs"]:
            audit = data["audits"][ref["id"]]
            if ref["weight"] and audit["score"] is not None and audit["score"] < 1 \
                    and audit["scoreDisplayMode"] in ("binary", "numeric", "metricSavings"):
                failing.append(f"{c}: {ref['id']} ({audit['score']:.2f})")
    environment = data.get("environment", {})
    return LighthouseResult(page, path, form_factor, scores, failing,
                            benchmark_index=environment.get("benchmarkIndex", 0.0),
                            cpu_slowdown=1.0 if form_factor == "desktop" else slowdown)


# --- Nu Html Checker ----------------------------------------------------------------------------

class Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []
        self.stylesheets: list[str] = []
        self.inputs: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.hrefs.append(a["href"])
        if tag == "link" and "stylesheet" in (a.get("rel") or "") and a.get("href"):
            self.stylesheets.append(a["href"])
        if tag == "input" and a.get("name"):
            self.inputs[a["name"]] = a.get("value") or ""


def parse(text: str) -> Links:
    links = Links()
    links.feed(text)
    return links


def kind_of(path_and_query: str) -> str:
    """Addresses that show the same page for different records share a kind."""
    parts = urlsplit(path_and_query)
    segments = ["*" if re.search(r"\d", s) else s for s in parts.path.split("/")]
    query = sorted(k.split("=")[0] for k in parts.query.split("&") if k)
    return "/".join(segments) + ("?" + "&".join(query) if query else "")


def crawl(client, base: str, starts: list[str], within: str = "/") -> dict[str, tuple[int, str]]:
    """Pages reachable by links from ``starts`` (GET, same site, HTML), a few of each kind."""
    seen: set[str] = set()
    kinds: dict[str, int] = {}
    pages: dict[str, tuple[int, str]] = {}
    queue = list(starts)
    while queue and len(pages) < MAX_PAGES:
        target = queue.pop(0)
        if target in seen:
            continue
        seen.add(target)
        kind = kind_of(target)
        if kinds.get(kind, 0) >= PER_KIND:
            continue
        kinds[kind] = kinds.get(kind, 0) + 1
        response = client.get(base + target)
        if "text/html" not in response.headers.get("content-type", ""):
            continue
        pages[target] = (response.status_code, response.text)
        for href in parse(response.text).hrefs:
            url = urlsplit(urljoin(base + target, href))
            if f"{url.scheme}://{url.netloc}" != base:
                continue
            found = url.path + (f"?{url.query}" if url.query else "")
            if url.path.startswith(within) and not NOT_PAGES.search(url.path) and found not in seen:
                queue.append(found)
    return pages


def form_token(client, base: str, path: str) -> str:
    return parse(client.get(base + path).text).inputs.get("csrf_token", "")


def collect_pages(base: str, quick: bool) -> dict[str, tuple[int, str]]:
    """Every public and admin page, and the pages people see when something goes wrong."""
    import httpx

    pages: dict[str, tuple[int, str]] = {}
    with httpx.Client(timeout=30) as visitor:
        pages.update(crawl(visitor, base, ["/", "/register", "/claim", "/privacy/download",
                                            "/privacy/erase", "/admin/login"]))
        for path in ("/no-such-page", "/events/no-such-event", "/leaderboard?season=abcd",
                     "/leaderboard?season=1999", "/badges/T13?new=yes"):
            response = visitor.get(base + path)
            pages[path] = (response.status_code, response.text)
        for form in ("/register", "/claim", "/privacy/download", "/privacy/erase"):
            sent = visitor.post(base + form, data={"csrf_token": form_token(visitor, base, form)})
            pages[f"POST {form} (empty)"] = (sent.status_code, sent.text)
        expired = visitor.post(base + "/register", data={"name": "x"})
        pages["POST /register (no form token)"] = (expired.status_code, expired.text)
        made = visitor.post(base + "/register", follow_redirects=True, data={
            "csrf_token": form_token(visitor, base, "/register"), "name": "Audit Person",
            "consent": "initial"})
        pages["POST /register (a new badge)"] = (made.status_code, made.text)
    with httpx.Client(timeout=30) as organiser:
        organiser.post(base + "/admin/login", data={
            "csrf_token": form_token(organiser, base, "/admin/login"), "password": ADMIN_PASSWORD})
        admin = crawl(organiser, base, ["/admin"], within="/admin")
        if not any(p.startswith("/admin/events") for p in admin):
            raise RuntimeError("could not sign in to the admin: no admin pages to check")
        pages.update(admin)
    with httpx.Client(timeout=30, cookies={"turnout_lang": "cy"}) as welsh:  # each public kind, in Welsh
        kinds: dict[str, str] = {}
        for path, (status, _) in pages.items():
            if status < 300 and not path.startswith(("POST", "/admin", "/no-such")):
                kinds.setdefault(kind_of(path), path)
        for path in [*kinds.values(), "/no-such-page", "/admin/login"]:
            response = welsh.get(base + path)
            pages[f"cy {path}"] = (response.status_code, response.text)
        sent = welsh.post(base + "/register", data={"csrf_token": form_token(welsh, base, "/register")})
        pages["cy POST /register (empty)"] = (sent.status_code, sent.text)
    # Styles every page links to, checked as CSS.
    sheets: set[str] = set()
    for status, text in pages.values():
        sheets.update(parse(text).stylesheets)
    with httpx.Client(timeout=30) as visitor:
        for sheet in sorted(sheets):
            url = urljoin(base + "/", sheet)
            response = visitor.get(url)
            pages["CSS " + urlsplit(url).path] = (response.status_code, response.text)
    return pages


@dataclass
class NuResult:
    page: str
    status: int
    errors: list[str]
    warnings: int


def nu_check(pages: dict[str, tuple[int, str]], out: Path) -> list[NuResult]:
    folder = out / "nu"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    files: dict[str, str] = {}
    for n, (name, (_status, text)) in enumerate(pages.items()):
        suffix = ".css" if name.startswith("CSS ") else ".html"
        path = folder / f"{n:03d}{suffix}"
        path.write_text(text, encoding="utf-8")
        files[path.name] = name
    done = subprocess.run(["java", "-Xss8m", "-jar", str(VNU_JAR), "--format", "json", "--also-check-css",
                           "--also-check-svg", *(str(folder / f) for f in files)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600)
    (out / "nu-messages.json").write_text(done.stderr)
    try:
        messages = json.loads(done.stderr)["messages"]
    except (json.JSONDecodeError, KeyError) as broken:
        raise RuntimeError(f"the Nu checker gave no report: {done.stderr[-500:]}") from broken
    results = {name: NuResult(name, pages[name][0], [], 0) for name in pages}
    for m in messages:
        name = files.get(m.get("url", "").rsplit("/", 1)[-1])
        if name is None:
            raise RuntimeError(f"the Nu checker reported on something not checked: {m}")
        if m["type"] == "error" or m["type"] == "non-document-error":
            results[name].errors.append(f"line {m.get('lastLine', '?')}: {m['message']}")
        elif m.get("subType") == "warning":
            results[name].warnings += 1
    return list(results.values())


# --- schemathesis -------------------------------------------------------------------------------

@dataclass
class SchemathesisResult:
    operations: int
    cases: int
    failures: list[dict]  # schemathesis' own: code, title, count, operations
    error: str = ""

    @property
    def failed(self) -> int:
        return sum(f["count"] for f in self.failures)


def schemathesis(base: str, out: Path, quick: bool) -> SchemathesisResult:
    report = out / "schemathesis.json"
    report.unlink(missing_ok=True)
    cli = Path(sys.executable).with_name("schemathesis")
    # Paced under the API's own limit (hub.ratelimit: 10 a second per address), or most answers
    # would be 429s and the endpoints behind them untested.
    cmd = [str(cli), "run", base + "/openapi.json", "--checks", "all", "--seed", "14",
           "--max-examples", "10" if quick else "100", "--rate-limit", "9/s", "--report", "json",
           f"--report-json-path={report}", "--no-color"]
    done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=900,
                          cwd=out)  # it keeps a .schemathesis/ folder where it runs
    (out / "schemathesis.txt").write_text(done.stdout)
    return read_schemathesis(report, done)


def read_schemathesis(report: Path, done) -> SchemathesisResult:
    if not report.exists():
        return SchemathesisResult(0, 0, [], error=done.stdout.strip()[-800:])
    data = json.loads(report.read_text())
    failures = data.get("failures", [])
    errors = [str(e)[:300] for e in data.get("errors", [])]
    return SchemathesisResult(data["operations"]["tested"], data["test_cases"]["generated"], failures,
                              error="; ".join(errors))


# --- The table ------------------------------------------------------------------------------------

def print_table(lighthouse_results: list[LighthouseResult], nu: list[NuResult],
                st: SchemathesisResult | None, verbose: bool) -> bool:
    ok = True
    if lighthouse_results:
        print_lighthouse(lighthouse_results)
        ok = all(r.passes() for r in lighthouse_results)
    if nu:
        bad = [r for r in nu if r.errors]
        print(f"\nNu Html Checker: {len(nu)} pages and stylesheets, "
              f"{sum(len(r.errors) for r in nu)} errors, {sum(r.warnings for r in nu)} warnings")
        for r in nu if verbose else bad:
            print(f"  {r.page[:60]:<60} {r.status}  {len(r.errors)} errors, {r.warnings} warnings")
            for e in r.errors[:5]:
                print(f"      {e[:150]}")
        ok = ok and not bad
    if st is not None:
        print(f"\nschemathesis (all checks): {st.operations} operations, {st.cases} test cases, "
              f"{st.failed} failures")
        for f in st.failures:
            print(f"  {f['code']} {f['title']} ×{f['count']}: {', '.join(map(str, f.get('operations', [])))}")
        if st.error:
            print(f"  ERROR {st.error}")
        ok = ok and not st.failures and not st.error
    return ok


def print_lighthouse(lighthouse_results: list[LighthouseResult]) -> None:
    print("\nLighthouse " + " " * 27 + "  ".join(f"{c[:11]:>11}" for c in CATEGORIES)
          + "   CPU index, slowdown")
    for r in lighthouse_results:
        label = f"  {r.page:<12} {r.form_factor:<8} {r.path[:16]:<16}"
        if r.error:
            print(f"{label} ERROR {r.error.splitlines()[-1] if r.error else ''}")
        else:
            cells = []
            for c in CATEGORIES:
                score = r.scores.get(c)
                mark = "" if (score or 0) >= LIGHTHOUSE_MINIMUM[c] else " ✗"
                cells.append(f"{'–' if score is None else score:>9}{mark:2}")
            print(label + "  ".join(cells) + f"   {r.benchmark_index:>5.0f} {r.cpu_slowdown:.1f}x")
        if not r.passes():
            for line in r.failing:
                print(f"      {line}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="the shorter set make test runs: Lighthouse on two pages, fewer API cases")
    parser.add_argument("--skip-if-unavailable", action="store_true",
                        help="when the tools cannot be installed, say so and exit 0")
    parser.add_argument("--base", help="audit a hub already running at this URL instead of starting one")
    parser.add_argument("--only", choices=["lighthouse", "nu", "schemathesis"], action="append")
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "audit")
    parser.add_argument("--verbose", action="store_true", help="every page in the Nu table")
    parser.add_argument("--cpu-slowdown", type=float,
                        help="Lighthouse's mobile CPU multiplier (default: calibrated to this machine)")
    args = parser.parse_args(argv)
    try:
        ensure_tools()
    except Unavailable as missing:
        print(f"AUDIT NOT RUN: {missing}.\n  Lighthouse, the Nu Html Checker and schemathesis did not run; "
              "`make audit` runs them once the tools install.", flush=True)
        return 0 if args.skip_if_unavailable else 3
    only = set(args.only or ["lighthouse", "nu", "schemathesis"])
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    hub = None
    workdir = Path(tempfile.mkdtemp(prefix="turnout-audit-"))
    try:
        if args.base:
            base = args.base.rstrip("/")
        else:
            hub = start_hub(workdir)
            base = hub.base
        print(f"Auditing the hub at {base} (sample season){' – quick set' if args.quick else ''}", flush=True)
        lh: list[LighthouseResult] = []
        if "lighthouse" in only:
            paths = sample_paths(base)
            runs = QUICK_RUNS if args.quick else [(page, form_factor) for page in LIGHTHOUSE_PAGES
                                                  for form_factor in ("desktop", "mobile")]
            index = 0.0  # the machine's benchmark index, as the last run measured it
            for name, form_factor in runs:
                if form_factor == "desktop" or args.cpu_slowdown:
                    r = lighthouse(base, name, paths[name], form_factor, args.out,
                                   slowdown=args.cpu_slowdown or 4.0)
                else:
                    r = lighthouse(base, name, paths[name], "mobile", args.out, cpu_slowdown(index))
                    if r.benchmark_index and cpu_slowdown(r.benchmark_index) < 0.9 * r.cpu_slowdown:
                        r = lighthouse(base, name, paths[name], "mobile", args.out,
                                       cpu_slowdown(r.benchmark_index))
                index = r.benchmark_index or index
                lh.append(r)
                print(f"  lighthouse {name} {r.form_factor}: "
                      + (r.error.splitlines()[-1] if r.error else
                         " ".join(f"{c} {r.scores[c]}" for c in CATEGORIES)), flush=True)
        nu: list[NuResult] = []
        if "nu" in only:
            pages = collect_pages(base, args.quick)
            print(f"  Nu Html Checker: {len(pages)} pages and stylesheets…", flush=True)
            nu = nu_check(pages, args.out)
        st = None
        if "schemathesis" in only:
            print("  schemathesis…", flush=True)
            st = schemathesis(base, args.out, args.quick)
        ok = print_table(lh, nu, st, args.verbose)
    finally:
        if hub is not None:
            hub.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"\nAudit {'passed' if ok else 'FAILED'} in {time.monotonic() - started:.0f} s; reports in "
          f"{args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
