# ruff: noqa: S310, S603, S607 - http:// to our server, our commands
"""The benchmark: seed, serve, load with wrk, write ``bench/results``.

``python -m bench.run --sizes 10k,100k,1m`` (``make bench``) or
``python -m bench.run --quick`` (``make bench-quick``: 10k, short runs). Every figure
is a ratio to the hello-world of the same server in the same run; see
``docs/performance.md`` for the method and how to read the output.

Exit status: 1 when any request failed (non-2xx/3xx answer, socket error, timeout) or
a server logged "database is locked"; timings never fail the run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aspirasi_core.services.cursor import encode_cursor

from . import seed
from .app import HELLO_PATH

ROOT = seed.ROOT
PY = str(ROOT / ".venv" / "bin" / "python")
SERVER_CPU = "0"
LOADGEN_CPU = "1"
CONNECTIONS = 64
LOGIN_CONNECTIONS = 16
#: Goals of the evaluator's report at 1M messages, p50 at one connection (issue 21).
EVALUATOR_YEAR_MS = 1000
EVALUATOR_MONTH_MS = 150
WRK_TIMEOUT = "10s"
#: Goal of the worker's VmRSS after the log-in burst at 1M messages, MB (issue 21).
MEMORY_GOAL_MB = 200

#: Log-ins per second as a share of raw argon2 verifications on the server's core.
LOGIN_GOAL = 0.8
#: name → (goal on SQLite, goal on PostgreSQL) as a ratio to the hello-world: the
#: targets issue 21 set for the idiomatic code (public APIs, no hand-made internals).
GOALS: dict[str, tuple[float | None, float | None]] = {
    "tracking": (0.30, 0.20),
    "public_first": (0.20, 0.15),
    "public_deep": (None, None),  # goal: >= 0.8 x public_first (checked separately)
    "agency_list": (0.15, 0.10),
    "agency_list_html": (None, None),
    "submission": (0.05, 0.05),
}
LABELS = {
    "hello": "hello-world (denominator)",
    "tracking": "tracking by NIK (API)",
    "public_first": "public list, first page (HTML)",
    "public_deep": "public list, page 90% deep (HTML)",
    "agency_list": "operator's agency list (API, bearer)",
    "agency_list_html": "operator's agency list (HTML, session) — extra",
    "submission": "submission, 1 kB multipart (API)",
}


def log(msg: str) -> None:
    print(f"[bench {datetime.now():%H:%M:%S}] {msg}", flush=True)


# --------------------------------------------------------------------------- HTTP helpers
def http(
    base: str,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, list[str]], bytes]:
    req = urllib.request.Request(base + path, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            hdrs: dict[str, list[str]] = {}
            for k, v in resp.headers.items():
                hdrs.setdefault(k.lower(), []).append(v)
            return resp.status, hdrs, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, {}, exc.read()


def login(base: str, username: str) -> tuple[str, str]:
    """(bearer token, session cookie value) through the real API."""
    body = json.dumps({"login": username, "password": seed.PASSWORD}).encode()
    status, headers, data = http(
        base, "POST", "/api/v1/auth/login", body, {"Content-Type": "application/json"}
    )
    if status != 200:
        raise RuntimeError(f"login {username}: {status} {data[:300]!r}")
    session = ""
    for cookie in headers.get("set-cookie", []):
        if cookie.startswith("aspirasi_session="):
            session = cookie.split(";", 1)[0].split("=", 1)[1]
    return json.loads(data)["token"], session


# --------------------------------------------------------------------------- wrk
@dataclass
class Req:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None


def _lua_str(value: str | bytes) -> str:
    raw = value.encode() if isinstance(value, str) else value
    out = []
    for b in raw:
        ch = chr(b)
        if ch in '\\"' or b < 32 or b > 126:
            out.append(f"\\{b:03d}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


DONE_LUA = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    latency.mean))
end
"""


def lua_script(reqs: Sequence[Req], delay_ms: float | None = None) -> str:
    lines = ["local reqs = {}", "local n = 0", "local i = 0", "init = function(args)"]
    for r in reqs:
        hdrs = ", ".join(f"[{_lua_str(k)}] = {_lua_str(v)}" for k, v in r.headers.items())
        body = _lua_str(r.body) if r.body is not None else "nil"
        lines.append(
            f"  reqs[#reqs + 1] = wrk.format({_lua_str(r.method)}, {_lua_str(r.path)}, "
            f"{{{hdrs}}}, {body})"
        )
    lines += [
        "  n = #reqs",
        "  i = math.random(0, n - 1)",
        "end",
        "request = function()",
        "  i = i % n + 1",
        "  return reqs[i]",
        "end",
    ]
    if delay_ms is not None:
        # Fixed rate: every connection waits ~delay before each request (uniform jitter
        # 0.5-1.5 x, so connections do not fire in lock-step).
        lines += [
            f"local base_delay = {delay_ms:.3f}",
            "delay = function() return base_delay * (0.5 + math.random()) end",
        ]
    return "\n".join(lines) + "\n" + DONE_LUA


@dataclass
class WrkResult:
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    errors: int
    detail: dict[str, Any]
    command: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "rps": round(self.rps, 1),
            "p50_ms": round(self.p50_ms, 2),
            "p90_ms": round(self.p90_ms, 2),
            "p99_ms": round(self.p99_ms, 2),
            "errors": self.errors,
            "wrk": self.detail,
        }


class Wrk:
    def __init__(self, base: str, workdir: Path) -> None:
        self.base = base
        self.workdir = workdir
        self.commands: list[str] = []

    def start(
        self,
        name: str,
        reqs: Sequence[Req],
        duration: float,
        connections: int = CONNECTIONS,
        delay_ms: float | None = None,
    ) -> tuple[subprocess.Popen[str], str]:
        script = self.workdir / f"{name}{'-fixed' if delay_ms else ''}.lua"
        script.write_text(lua_script(reqs, delay_ms))
        cmd = [
            "taskset",
            "-c",
            LOADGEN_CPU,
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{max(1, round(duration))}s",
            "--timeout",
            WRK_TIMEOUT,
            "-s",
            str(script),
            self.base,
        ]
        text = " ".join(cmd)
        self.commands.append(text)
        return subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        ), text

    @staticmethod
    def finish(proc: subprocess.Popen[str], text: str) -> WrkResult:
        out, _ = proc.communicate()
        match = re.search(r"BENCH_JSON (\{.*\})", out)
        if match is None:
            raise RuntimeError(f"wrk gave no result: {text}\n{out}")
        d = json.loads(match.group(1))
        seconds = d["duration_us"] / 1e6
        errors = d["connect"] + d["read"] + d["write"] + d["status"] + d["timeout"]
        return WrkResult(
            rps=d["requests"] / seconds if seconds else 0.0,
            p50_ms=d["p50_us"] / 1000,
            p90_ms=d["p90_us"] / 1000,
            p99_ms=d["p99_us"] / 1000,
            errors=errors,
            detail=d,
            command=text,
        )

    def run(self, name: str, reqs: Sequence[Req], duration: float, **kw: Any) -> WrkResult:
        proc, text = self.start(name, reqs, duration, **kw)
        return self.finish(proc, text)


# --------------------------------------------------------------------------- server
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, env: dict[str, str], logfile: Path) -> None:
        self.env = env
        self.logfile = logfile
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.command = f"taskset -c {SERVER_CPU} {PY} -m bench.server --port {self.port}"

    def __enter__(self) -> Server:
        out = self.logfile.open("wb")
        self.proc = subprocess.Popen(
            ["taskset", "-c", SERVER_CPU, PY, "-m", "bench.server", "--port", str(self.port)],
            env={**os.environ, **self.env},
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server stopped; see {self.logfile}")
            try:
                if http(self.base, "GET", "/healthz")[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        self.__exit__()  # not left running: the caller's ``with`` never entered
        raise RuntimeError(f"the server did not start in 60 s; see {self.logfile}")

    def cpu_seconds(self) -> float:
        """CPU time the server has used so far (user + system)."""
        assert self.proc is not None
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Until the server has used under 5 ms of CPU in 250 ms: work queued before
        a load generator stopped (log-ins waiting for their hash) still runs after
        it, and a measurement started then would share the core with it."""
        deadline = time.monotonic() + timeout
        before = self.cpu_seconds()
        while time.monotonic() < deadline:
            time.sleep(0.25)
            now = self.cpu_seconds()
            if now - before < 0.005:
                return True
            before = now
        log(f"the server was still busy after {timeout:.0f} s; measuring anyway")
        return False

    def memory(self) -> dict[str, float]:
        """MB of the server: VmRSS (resident), VmHWM (its peak), and VmRSS's parts,
        RssAnon (the heap: Python objects, SQLite's page caches, argon2's buffer),
        RssFile (mapped files: the interpreter and libraries, shared with other
        processes and reclaimable) and RssShmem."""
        assert self.proc is not None
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        out = {}
        for key in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem"):
            m = re.search(rf"^{key}:\s+(\d+) kB", status, re.M)
            if m:
                out[key] = round(int(m.group(1)) / 1024, 1)
        return out

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def log_text(self) -> str:
        return self.logfile.read_text(errors="replace")


# --------------------------------------------------------------------------- the data a run needs
def db_facts(backend: str, url: str) -> dict[str, Any]:
    """Ids the requests need: the deep page's cursor, in-progress messages, citizens."""
    pub = (
        "SELECT id FROM messages WHERE NOT confidential AND status IN "
        "('forwarded', 'in_progress', 'done') ORDER BY id DESC"
    )
    heavy = (
        "SELECT id FROM messages WHERE agency_id = 1 AND status = 'in_progress' "
        "ORDER BY id DESC LIMIT 2000"
    )
    citizens = "SELECT count(*) FROM accounts WHERE role = 'user'"
    if backend == "sqlite":
        import sqlite3

        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        rows = [r[0] for r in conn.execute(pub)]
        progress = [r[0] for r in conn.execute(heavy)]
        n_citizens = conn.execute(citizens).fetchone()[0]
        conn.close()
    else:
        import psycopg

        with psycopg.connect(url) as conn:
            rows = [r[0] for r in conn.execute(pub)]
            progress = [r[0] for r in conn.execute(heavy)]
            n_citizens = conn.execute(citizens).fetchone()[0]  # type: ignore[index]
    deep_index = int(0.9 * len(rows))
    return {
        "public_count": len(rows),
        "deep_index": deep_index,
        "deep_cursor": encode_cursor(rows[deep_index]),
        "progress_ids": progress,
        "citizens": n_citizens,
    }


def multipart(subject: str, body: str) -> tuple[bytes, str]:
    boundary = "----aspirasibench7d1f"
    parts = []
    for name, value in (("subject", subject), ("body", body)):
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        )
    data = ("".join(parts) + f"--{boundary}--\r\n").encode()
    return data, f"multipart/form-data; boundary={boundary}"


def submission_body(k: int) -> tuple[bytes, str]:
    rng = random.Random(k)
    words = seed.WORDS
    subject = f"Laporan {k}: " + " ".join(rng.choice(words) for _ in range(6))
    text = " ".join(rng.choice(words) for _ in range(200))
    data, ctype = multipart(subject[:120], text)
    # Trim the body so the whole request body is about 1 kB.
    while len(data) > 1024:
        text = text[: len(text) - (len(data) - 1024)]
        data, ctype = multipart(subject[:120], text)
    return data, ctype


@dataclass
class Scenario:
    hello: list[Req]
    routes: dict[str, list[Req]]
    login: list[Req]
    mixed: list[Req]
    evaluator: list[Req] | None
    evaluator_note: str
    #: The same report for a month (``None`` with ``evaluator``).
    evaluator_month: list[Req] | None = None


def build_scenarios(base: str, facts: dict[str, Any]) -> Scenario:
    operator_token, operator_session = login(base, "bench.operator00")  # the heavy agency
    citizen_token, _ = login(base, "warga0")
    json_h = {"Content-Type": "application/json"}
    public_json_h = json_h
    citizens = facts["citizens"]
    niks = [seed.nik_of(j * citizens // 1000) for j in range(1000)]
    tracking = [
        Req("POST", "/api/v1/public/tracking", public_json_h, json.dumps({"nik": nik}).encode())
        for nik in niks
    ]
    bearer_op = {"Authorization": f"Bearer {operator_token}"}
    bearer_cit = {"Authorization": f"Bearer {citizen_token}"}
    submissions = []
    for k in range(50):
        data, ctype = submission_body(k)
        submissions.append(
            Req("POST", "/api/v1/messages", {**bearer_cit, "Content-Type": ctype}, data)
        )
    routes = {
        "tracking": tracking,
        "public_first": [Req("GET", "/messages")],
        "public_deep": [Req("GET", f"/messages?cursor={facts['deep_cursor']}")],
        "agency_list": [Req("GET", "/api/v1/backoffice/messages", bearer_op)],
        "agency_list_html": [
            Req("GET", "/backoffice/messages", {"Cookie": f"aspirasi_session={operator_session}"})
        ],
        "submission": submissions,
    }
    logins = [
        Req(
            "POST",
            "/api/v1/auth/login",
            public_json_h,
            json.dumps(
                {"login": f"warga{1 + j * (citizens - 1) // 1000}", "password": seed.PASSWORD}
            ).encode(),
        )
        for j in range(1000)
    ]
    # Mixed: 10% writes (5% submissions, 5% progress updates), 90% reads.
    rng = random.Random(7)
    progress_ids = facts["progress_ids"]
    mixed: list[Req] = []
    for k in range(1000):
        roll = k % 20
        if roll == 0:
            mixed.append(submissions[k % len(submissions)])
        elif roll == 1:
            mid = progress_ids[k % len(progress_ids)]
            mixed.append(
                Req(
                    "POST",
                    f"/api/v1/messages/{mid}/progress",
                    {**bearer_op, **json_h},
                    json.dumps({"note": f"Perkembangan {k}: tim sudah ke lokasi."}).encode(),
                )
            )
        else:
            pick = roll % 3
            if pick == 0:
                mixed.append(tracking[k % len(tracking)])
            elif pick == 1:
                mixed.append(routes["public_first"][0])
            else:
                mixed.append(routes["agency_list"][0])
    rng.shuffle(mixed)
    # The evaluator's report, once the plugin serves it.
    status, _, data = http(base, "GET", "/schema/openapi.json")
    evaluator = evaluator_month = None
    note = "evaluator report: not yet implemented (no GET /api/v1/evaluator/report in the schema)"
    if status == 200:
        spec = json.loads(data)
        op = spec.get("paths", {}).get("/api/v1/evaluator/report", {}).get("get")
        if op is not None:
            super_token, _ = login(base, seed.SUPERADMIN)
            bearer_super = {"Authorization": f"Bearer {super_token}"}
            # A year and a month of messages (from and to are local days, both included),
            # the window shifted by one day per request so that no two requests ask for
            # the same report.
            evaluator, evaluator_month = [], []
            first = datetime(2025, 11, 1, tzinfo=UTC)
            for k in range(200):
                day = first + timedelta(days=k - 100)
                year_on = day.replace(year=day.year + 1)
                month_on = (day.replace(day=1) + timedelta(days=32)).replace(day=min(day.day, 28))
                for into, end in ((evaluator, year_on), (evaluator_month, month_on)):
                    last = end - timedelta(days=1)
                    query = f"?from={day:%Y-%m-%d}&to={last:%Y-%m-%d}"
                    into.append(Req("GET", f"/api/v1/evaluator/report{query}", bearer_super))
            note = (
                "GET /api/v1/evaluator/report?from=…&to=… (one year, or one month, a different "
                "window each request), super admin, 1 connection"
            )
    return Scenario(
        hello=[Req("GET", HELLO_PATH)],
        routes=routes,
        login=logins,
        mixed=mixed,
        evaluator=evaluator,
        evaluator_note=note,
        evaluator_month=evaluator_month,
    )


def probe_error(base: str, reqs: Sequence[Req]) -> str:
    """One request of a scenario, to show why it failed."""
    r = reqs[0]
    status, _, data = http(base, r.method, r.path, r.body, r.headers)
    return f"{r.method} {r.path} → {status} {data[:200]!r}"


# --------------------------------------------------------------------------- argon2
def raw_argon2(seconds: float) -> dict[str, Any]:
    """argon2id verifications per second on the server's core, the app's parameters."""
    code = f"""
import time
from aspirasi_core.settings import Settings
from argon2 import PasswordHasher, Type
s = Settings()
h = PasswordHasher(time_cost=s.argon2_time_cost, memory_cost=s.argon2_memory_kib,
                   parallelism=s.argon2_parallelism, hash_len=32, salt_len=16, type=Type.ID)
hashed = h.hash("bench-password")
n = 0
t0 = time.perf_counter()
while time.perf_counter() - t0 < {seconds}:
    h.verify(hashed, "bench-password")
    n += 1
print(n / (time.perf_counter() - t0))
print(s.argon2_time_cost, s.argon2_memory_kib, s.argon2_parallelism)
"""
    cmd = ["taskset", "-c", SERVER_CPU, PY, "-c", code]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT).stdout.split(
        "\n"
    )
    t, m, p = out[1].split()
    return {
        "verifications_per_s": round(float(out[0]), 2),
        "params": {"time_cost": int(t), "memory_kib": int(m), "parallelism": int(p)},
        "command": f"taskset -c {SERVER_CPU} python -c '<argon2-cffi verify loop, {seconds} s>'",
    }


# --------------------------------------------------------------------------- one backend × size
def _login_runs(lg: dict[str, Any]) -> str:
    """ "ratios of the interleaved pairs: …; " (results written before they existed: "")."""
    runs = lg.get("runs") or []
    if len(runs) < 2:
        return ""
    return "pairs " + ", ".join(f"{r['ratio']:.2f}" for r in runs) + "; "


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def bench_one(
    backend: str, size: str, args: argparse.Namespace, workdir: Path, argon: dict[str, Any]
) -> dict[str, Any]:
    started = time.perf_counter()
    result: dict[str, Any] = {"backend": backend, "size": size, "void": []}
    if backend == "sqlite":
        info = seed.ensure_sqlite(size, args.seed, log)
        work = seed.working_sqlite(info["path"], size)
        env = seed.bench_env("sqlite", size, work)
    else:
        info = seed.ensure_postgres(size, args.seed, log)
        seed.working_postgres(size)
        env = seed.bench_env("postgresql", size)
    result["seed"] = info
    url = env["ASPIRASI_DATABASE_URL"]
    facts = db_facts(backend, url)
    result["data"] = {k: v for k, v in facts.items() if k != "progress_ids"}
    logfile = seed.VAR / f"server-{backend}-{size}.log"
    d = args.duration
    with Server(env, logfile) as server:
        result["server_command"] = server.command
        wrk = Wrk(server.base, workdir)
        memory = {"after_start": server.memory()}
        sc = build_scenarios(server.base, facts)
        all_routes = {"hello": sc.hello, **sc.routes}
        # Warm-up (JIT-free Python, but caches, pools, statement caches fill up).
        for name, reqs in all_routes.items():
            wrk.run(f"warm-{name}", reqs, args.warmup)
        runs: dict[str, list[WrkResult]] = {name: [] for name in all_routes}
        for rnd in range(args.rounds):  # interleaved: every route once per round
            for name, reqs in all_routes.items():
                r = wrk.run(f"{backend}-{size}-{name}", reqs, d)
                runs[name].append(r)
                log(
                    f"{backend} {size} round {rnd + 1} {name}: {r.rps:.0f} req/s, "
                    f"p99 {r.p99_ms:.1f} ms, errors {r.errors}"
                )
                if r.errors:
                    result["void"].append(
                        f"{name}: {r.errors} errors; {probe_error(server.base, reqs)}"
                    )
        hello_rps = median([r.rps for r in runs["hello"]])
        routes: dict[str, Any] = {}
        for name, reqs in all_routes.items():
            rs = runs[name]
            rps = median([r.rps for r in rs])
            mid = sorted(rs, key=lambda r: r.rps)[len(rs) // 2]
            # Fixed rate: half the maximum, same connections, per-connection delay.
            target = rps / 2
            delay_ms = CONNECTIONS * 1000 / target if target > 0 else 1000
            fixed = wrk.run(f"{backend}-{size}-{name}", reqs, d, delay_ms=delay_ms)
            if fixed.errors:
                result["void"].append(f"{name} (fixed rate): {fixed.errors} errors")
            goal = GOALS.get(name, (None, None))[0 if backend == "sqlite" else 1]
            ratio = rps / hello_rps if hello_rps else 0.0
            routes[name] = {
                "label": LABELS[name],
                "rps_runs": [round(r.rps, 1) for r in rs],
                "rps": round(rps, 1),
                "ratio": round(ratio, 3),
                "goal": goal,
                "pass": None if goal is None else ratio >= goal,
                "c64": mid.as_dict(),
                "fixed": {"target_rps": round(target, 1), **fixed.as_dict()},
                "errors": sum(r.errors for r in rs) + fixed.errors,
            }
        first = routes["public_first"]["rps"]
        deep = routes["public_deep"]
        deep["goal_note"] = ">= 0.8 x first page"
        deep["vs_first"] = round(deep["rps"] / first, 3) if first else None
        deep["pass"] = deep["vs_first"] is not None and deep["vs_first"] >= 0.8
        memory["after_routes"] = server.memory()
        result["hello_rps"] = round(hello_rps, 1)
        result["routes"] = routes

        # Logins: throughput against the raw argon2 rate, measured on the server's
        # core (the server idles meanwhile) right before and right after each
        # log-in run, the mean of the two, so both see the same machine; three
        # interleaved runs, the one of the median ratio reported (the speed of this
        # machine drifts by ±5–15% within seconds: one measure before a run alone
        # put single ratios at 0.84 and 1.25 in one minute).
        lg1 = wrk.run(f"{backend}-{size}-login-c1", sc.login, d, connections=1)
        pairs: list[tuple[float, float, Any, tuple[float, float]]] = []
        raw_seconds = 3.0 if not args.quick else 1.0
        for k in range(1 if args.quick else 3):
            server.wait_idle()
            before = raw_argon2(raw_seconds)["verifications_per_s"]
            run_k = wrk.run(
                f"{backend}-{size}-login-{k}", sc.login, d, connections=LOGIN_CONNECTIONS
            )
            server.wait_idle()  # log-ins still hashing after wrk stopped
            after = raw_argon2(raw_seconds)["verifications_per_s"]
            raw_k = round((before + after) / 2, 2)
            pairs.append((run_k.rps / raw_k if raw_k else 0.0, raw_k, run_k, (before, after)))
        pair_errors = sum(r.errors for _, _, r, _ in pairs)
        if pair_errors:
            result["void"].append(
                f"login: {pair_errors} errors; {probe_error(server.base, sc.login)}"
            )
        login_ratio, raw, lg, _ = sorted(pairs, key=lambda pair: pair[0])[len(pairs) // 2]
        # Tracking at its fixed rate without and during a burst of logins: three
        # interleaved pairs, each p99 the median of its three runs (a single p99 on
        # this machine swings several-fold from run to run).
        tr_target = routes["tracking"]["fixed"]["target_rps"]
        tr_delay = CONNECTIONS * 1000 / tr_target if tr_target else 1000
        alone_runs, during_runs, burst_runs = [], [], []
        for k in range(1 if args.quick else 3):
            server.wait_idle()  # no log-in of the last burst still hashing
            alone_runs.append(
                wrk.run(
                    f"{backend}-{size}-tracking-alone-{k}",
                    sc.routes["tracking"],
                    d,
                    delay_ms=tr_delay,
                )
            )
            burst = wrk.start(f"burst-login-{k}", sc.login, d, connections=LOGIN_CONNECTIONS)
            during_runs.append(
                wrk.run(
                    f"{backend}-{size}-tracking-burst-{k}",
                    sc.routes["tracking"],
                    d,
                    delay_ms=tr_delay,
                )
            )
            burst_runs.append(Wrk.finish(*burst))
        errors = sum(r.errors for r in alone_runs + during_runs)
        login_errors = sum(r.errors for r in burst_runs)
        if errors or login_errors:
            result["void"].append(
                f"login burst: {errors} tracking errors, {login_errors} login errors"
            )
        during = sorted(during_runs, key=lambda r: r.p99_ms)[len(during_runs) // 2]
        burst_r = sorted(burst_runs, key=lambda r: r.rps)[len(burst_runs) // 2]
        base_p99 = median([r.p99_ms for r in alone_runs])
        result["login"] = {
            "connections": LOGIN_CONNECTIONS,
            "rps": round(lg.rps, 2),
            "raw_argon2_per_s": raw,
            "ratio_to_raw": round(login_ratio, 3),
            "goal": LOGIN_GOAL,
            "pass": login_ratio >= LOGIN_GOAL,
            "runs": [
                {
                    "raw_argon2_per_s": r,
                    "raw_before_after": list(ba),
                    "rps": round(run.rps, 2),
                    "ratio": round(q, 3),
                }
                for q, r, run, ba in pairs
            ],
            "c": lg.as_dict(),
            "one_connection": lg1.as_dict(),
            "burst": {
                "tracking_target_rps": tr_target,
                "tracking_during_burst": during.as_dict(),
                "logins_during_burst": burst_r.as_dict(),
                "tracking_p99_without_ms": base_p99,
                "tracking_p99_without_runs_ms": [r.p99_ms for r in alone_runs],
                "tracking_p99_during_runs_ms": [r.p99_ms for r in during_runs],
                "p99_ratio": round(during.p99_ms / base_p99, 2) if base_p99 else None,
                "goal": "<= 2x",
                "pass": bool(base_p99) and during.p99_ms <= 2 * base_p99,
            },
        }

        memory["after_logins"] = server.memory()
        # Mixed load (goal on SQLite; run on both for information).
        before = server.log_text().count("database is locked")
        mx = wrk.run(f"{backend}-{size}-mixed", sc.mixed, args.mixed_duration)
        time.sleep(0.5)
        locked = server.log_text().count("database is locked") - before
        result["mixed"] = {
            "mix": "5% submissions, 5% progress updates, 30% tracking, 30% public list, "
            "30% agency list; 64 connections",
            **mx.as_dict(),
            "database_locked": locked,
            "pass": mx.errors == 0 and locked == 0,
        }
        if mx.errors or locked:
            result["void"].append(
                f"mixed: {mx.errors} failed requests, {locked} 'database is locked'"
            )

        # Evaluator report (p50 at one connection) when the route exists: a year, a month.
        if sc.evaluator is not None:
            for key, reqs, goal_ms in (
                ("evaluator", sc.evaluator, EVALUATOR_YEAR_MS),
                ("evaluator_month", sc.evaluator_month or [], EVALUATOR_MONTH_MS),
            ):
                ev = wrk.run(f"{backend}-{size}-{key}", reqs, d, connections=1)
                result[key] = {
                    "note": sc.evaluator_note,
                    **ev.as_dict(),
                    "goal": f"p50 <= {goal_ms} ms at 1M",
                    "goal_ms": goal_ms,
                    # No answer within the run (a report longer than it) is no pass.
                    "pass": ev.rps > 0 and ev.p50_ms <= goal_ms,
                }
                if ev.errors:
                    result["void"].append(
                        f"{key}: {ev.errors} errors; {probe_error(server.base, reqs)}"
                    )
        else:
            result["evaluator"] = {"skipped": True, "note": sc.evaluator_note}
        result["memory_mb"] = server.memory()
        result["memory_stages_mb"] = memory
        result["memory_goal"] = f"VmRSS after the log-ins <= {MEMORY_GOAL_MB} MB at 1M"
        text = server.log_text()
        result["server_log"] = {
            "file": str(logfile.relative_to(ROOT)),
            "tracebacks": text.count("Traceback"),
            "database_locked_total": text.count("database is locked"),
        }
        result["wrk_commands"] = sorted(set(wrk.commands))
    if backend == "postgresql":
        seed.drop_postgres_working(size)
    if result["server_log"]["database_locked_total"]:
        result["void"].append("the server logged 'database is locked'")
    result["seconds"] = round(time.perf_counter() - started, 1)
    return result


# --------------------------------------------------------------------------- environment facts
def versions() -> dict[str, str]:
    import importlib.metadata as md
    import sqlite3

    out = {"python": platform.python_version(), "sqlite": sqlite3.sqlite_version}
    for dist in (
        "litestar",
        "sqlalchemy",
        "psycopg",
        "uvicorn",
        "uvloop",
        "httptools",
        "argon2-cffi",
        "aspirasi-core",
        "aspirasi-web",
    ):
        try:
            out[dist] = md.version(dist)
        except md.PackageNotFoundError:
            out[dist] = "-"
    try:
        import psycopg

        with psycopg.connect(seed.PG_ADMIN_URL) as conn:
            out["postgresql"] = str(conn.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
    except Exception as exc:
        out["postgresql"] = f"unavailable: {exc}"
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
    out["wrk"] = (wrk.stdout + wrk.stderr).split("\n")[0].strip()
    return out


def machine() -> dict[str, Any]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text())
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(int(mem.group(1)) / 1024 / 1024, 1) if mem else None,
        "kernel": platform.release(),
        "loadavg_start": Path("/proc/loadavg").read_text().split()[:3],
        "shared": "the machine was shared with other people's test runs: expect noise",
    }


# --------------------------------------------------------------------------- report
def _fmt_ratio(r: dict[str, Any]) -> str:
    return f"{r['ratio']:.3f}"


def stages(memory: dict[str, dict[str, float]]) -> str:
    """ "after start 141.9 (anon 113.2, file 28.7), …": VmRSS (RssAnon, RssFile) per stage."""
    return ", ".join(
        f"{k.replace('_', ' ')} {v.get('VmRSS')}"
        + (f" (anon {v['RssAnon']}, file {v.get('RssFile')})" if "RssAnon" in v else "")
        for k, v in memory.items()
    )


def seed_text(info: dict[str, Any]) -> str:
    return "cached" if info["cached"] else f"built in {info['seconds']} s"


def _memory_pass(res: dict[str, Any]) -> str:
    """The memory goal (VmRSS after the log-in burst, at 1M) as a result cell."""
    if res["size"] != "1m":
        return "(1M only)"
    after = res["memory_stages_mb"].get("after_logins", {}).get("VmRSS")
    return "—" if after is None else _pass(after <= MEMORY_GOAL_MB)


def _pass(v: bool | None) -> str:
    return "—" if v is None else ("**pass**" if v else "**FAIL**")


def markdown(report: dict[str, Any]) -> str:
    m = report["meta"]
    out = [
        f"# Aspirasi benchmark — {m['date']} ({'quick' if m['quick'] else 'full'})",
        "",
        f"Machine: {m['machine']['cpu']}, {m['machine']['cores']} cores, "
        f"{m['machine']['memory_gb']} GB, Linux {m['machine']['kernel']}; load average at start "
        f"{' '.join(m['machine']['loadavg_start'])}. **Shared machine** (other people's tests "
        "ran at the same time): absolute numbers are noisy, read the ratios.",
        "",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()),
        "",
        f"Method: server pinned to CPU {SERVER_CPU} (one uvicorn worker, uvloop + httptools), "
        f"wrk pinned to CPU {LOADGEN_CPU}; {m['rounds']} interleaved rounds of {m['duration']} s "
        f"per route at {CONNECTIONS} connections, the median is reported; then one run at a fixed "
        "rate of half that median (per-connection delay in wrk's Lua). Ratio = route req/s ÷ "
        "hello-world req/s of the same run. See docs/performance.md.",
        "",
        *(
            [
                "Merged from: "
                + ", ".join(f"`{f}`" for f in m["merged_from"])
                + " (each part's ratios are within its own run; the header shows the last).",
                "",
            ]
            if m.get("merged_from")
            else []
        ),
        "Settings: " + ", ".join(f"`{k}={v}`" for k, v in m["settings"].items()),
        "",
        f"Raw argon2id on one core: {m['argon2']['verifications_per_s']} verifications/s "
        f"(t={m['argon2']['params']['time_cost']}, m={m['argon2']['params']['memory_kib']} KiB, "
        f"p={m['argon2']['params']['parallelism']}).",
        "",
    ]
    for res in report["results"]:
        if "failed" in res:
            out += [
                f"## {res['backend']} · {res['size']} messages",
                "",
                f"**The run failed**: `{res['failed'][:600]}`",
                "",
            ]
            continue
        out += [
            f"## {res['backend']} · {res['size']} messages",
            "",
            (f"Run of {res['from_run']}. " if res.get("from_run") else "")
            + f"Seed: {seed_text(res['seed'])}"
            f" (key {res['seed']['key']}); public messages {res['data']['public_count']}, deep page "
            f"at index {res['data']['deep_index']}. Run took {res['seconds']} s.",
            "",
            "| path | req/s (3 runs) | ratio | goal | result | p50 / p99 ms @64 | fixed req/s "
            "| p50 / p99 ms @fixed | errors |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for name, r in res["routes"].items():
            runs = "/".join(f"{x:.0f}" for x in r["rps_runs"])
            if name == "public_deep":
                goal = "≥0.8× first"
                vs_first = "—" if r["vs_first"] is None else f"{r['vs_first']:.2f}"
                ratio = f"{_fmt_ratio(r)} ({vs_first}× first)"
            else:
                goal = "—" if r["goal"] is None else f"≥{r['goal']:.2f}"
                ratio = _fmt_ratio(r)
            out.append(
                f"| {r['label']} | {r['rps']:.0f} ({runs}) | {ratio} | {goal} "
                f"| {'**VOID**' if r['errors'] else _pass(r['pass'])} "
                f"| {r['c64']['p50_ms']:.1f} / {r['c64']['p99_ms']:.1f} "
                f"| {r['fixed']['rps']:.0f} | {r['fixed']['p50_ms']:.1f} / {r['fixed']['p99_ms']:.1f} "
                f"| {r['errors']} |"
            )
        lg = res["login"]
        b = lg["burst"]
        ev_rows = []
        for key, span in (("evaluator", "a year"), ("evaluator_month", "a month")):
            ev = res.get(key)
            if ev is None:  # results from before the month was measured
                continue
            goal = f"≤ {ev.get('goal_ms', 50)} ms at 1M"
            ev_rows.append(
                f"| evaluator report, {span} (p50, 1 conn) | {ev['note']} | — | {goal} | SKIPPED |"
                if ev.get("skipped")
                else f"| evaluator report, {span} (p50, 1 conn) | {ev['p50_ms']:.1f} ms p50, "
                f"{ev['p99_ms']:.1f} ms p99 | {ev['errors']} errors | {goal} | {_pass(ev['pass'])} |"
            )
        mx = res["mixed"]
        mem = res["memory_mb"]
        out += [
            "",
            "| check | measured | detail | goal | result |",
            "|---|---|---|---|---|",
            f"| logins ({lg['connections']} conns) | {lg['rps']:.1f} /s = {lg['ratio_to_raw']:.2f}× raw "
            f"argon2 ({lg['raw_argon2_per_s']:.1f}/s) | {_login_runs(lg)}p50 {lg['c']['p50_ms']:.0f} ms, errors "
            f"{lg['c']['errors']}; at 1 conn {lg['one_connection']['rps']:.1f}/s | ≥{LOGIN_GOAL}× raw "
            f"| {_pass(lg['pass'])} |",
            f"| tracking p99 during a login burst | {b['tracking_during_burst']['p99_ms']:.1f} ms vs "
            f"{b['tracking_p99_without_ms']:.1f} ms without = {b['p99_ratio']}× | at "
            f"{b['tracking_target_rps']:.0f} req/s offered; {b['tracking_during_burst']['rps']:.0f} "
            f"served; logins {b['logins_during_burst']['rps']:.1f}/s | ≤2× | {_pass(b['pass'])} |",
            f"| mixed load ({mx['mix']}) | {mx['rps']:.0f} req/s, {mx['errors']} failed, "
            f"{mx['database_locked']} 'database is locked' | p50 {mx['p50_ms']:.1f} / p99 "
            f"{mx['p99_ms']:.1f} ms | 0 errors"
            f"{' (goal on SQLite)' if res['backend'] == 'sqlite' else ' (information)'} "
            f"| {_pass(mx['pass'])} |",
            *ev_rows,
            f"| worker memory after the run | VmRSS {mem.get('VmRSS')} MB (peak {mem.get('VmHWM')} MB"
            + (f"; anon {mem['RssAnon']}, file {mem.get('RssFile')}" if "RssAnon" in mem else "")
            + f") | {stages(res['memory_stages_mb'])} | VmRSS after log-ins ≤ {MEMORY_GOAL_MB} MB"
            f" at 1M | {_memory_pass(res)} |",
            "",
        ]
        if res["void"]:
            out += ["**Void — errors in this run:**", ""] + [f"- {v}" for v in res["void"]] + [""]
    if report.get("scaling"):
        out += [
            "## Scaling (ratio at the larger size ÷ ratio at 10k; goal at 1M: ≥ 0.8)",
            "",
            "| backend | path | " + " | ".join(report["scaling_sizes"]) + " |",
            "|---|---|" + "---|" * len(report["scaling_sizes"]),
        ]
        for row in report["scaling"]:
            cells = " | ".join("—" if v is None else f"{v:.2f}" for v in row["values"])
            out.append(f"| {row['backend']} | {LABELS[row['path']]} | {cells} |")
        out.append("")
    out += ["## Commands", "", "```", *m["commands"], "```", ""]
    return "\n".join(out)


def scaling(results: list[dict[str, Any]]) -> tuple[list[str], list[dict[str, Any]]]:
    by = {(r["backend"], r["size"]): r for r in results if "failed" not in r}
    sizes = [s for s in ("100k", "1m") if any(k[1] == s for k in by)]
    rows = []
    for backend in ("sqlite", "postgresql"):
        base = by.get((backend, "10k"))
        if base is None or not sizes:
            continue
        for path in base["routes"]:
            if path == "hello":
                continue
            values = []
            for s in sizes:
                other = by.get((backend, s))
                b = base["routes"][path]["ratio"]
                values.append(other["routes"][path]["ratio"] / b if other and b else None)
            rows.append({"backend": backend, "path": path, "values": values})
    return sizes, rows


# --------------------------------------------------------------------------- main
def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Aspirasi benchmark (docs/performance.md)")
    p.add_argument("--quick", action="store_true", help="10k, short runs (CI)")
    p.add_argument("--sizes", default=None, help="comma-separated: 10k,100k,1m")
    p.add_argument("--backends", default="sqlite,postgresql")
    p.add_argument("--duration", type=float, default=None, help="seconds per wrk run")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--seed", type=int, default=seed.DEFAULT_SEED)
    p.add_argument("--out", default=str(ROOT / "bench" / "results"))
    p.add_argument(
        "--disable-plugins",
        default="",
        help="comma-separated plugins to switch off besides rate_limit (recorded in the results)",
    )
    p.add_argument(
        "--merge",
        default=None,
        help="comma-separated result JSON files: one report (later files win per database and "
        "size), written as <out>/merged-<date>.json/.md and latest.md",
    )
    p.add_argument("--render", default=None, help="only re-write the Markdown of a JSON result")
    args = p.parse_args(argv)
    if args.render:
        path = Path(args.render)
        path.with_suffix(".md").write_text(markdown(json.loads(path.read_text())))
        return 0
    if args.merge:
        return merge(args.merge.split(","), Path(args.out))
    seed.EXTRA_DISABLED[:] = [x for x in args.disable_plugins.split(",") if x]
    if args.sizes is None:
        args.sizes = "10k" if args.quick else "10k,100k,1m"
    if args.duration is None:
        args.duration = 2.0 if args.quick else 10.0
    args.warmup = 1.0 if args.quick else 3.0
    args.mixed_duration = 5.0 if args.quick else 30.0
    for tool in ("wrk", "taskset"):
        if subprocess.run(["which", tool], capture_output=True).returncode != 0:
            print(f"bench: {tool} is missing (apt-get install wrk util-linux)", file=sys.stderr)
            return 2
    started = time.perf_counter()
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    seed.VAR.mkdir(parents=True, exist_ok=True)
    argon = raw_argon2(2.0 if args.quick else 5.0)
    log(f"raw argon2: {argon['verifications_per_s']} verifications/s on CPU {SERVER_CPU}")
    results: list[dict[str, Any]] = []
    report: dict[str, Any] | None = None
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="aspirasi-bench-") as tmp:
        for size in args.sizes.split(","):
            for backend in args.backends.split(","):
                log(f"--- {backend} {size}")
                try:
                    results.append(bench_one(backend, size, args, Path(tmp), argon))
                except Exception as exc:  # one broken combination must not hide the others
                    log(f"{backend} {size} FAILED: {exc!r}")
                    results.append(
                        {
                            "backend": backend,
                            "size": size,
                            "failed": repr(exc)[:2000],
                            "void": [f"the run failed: {exc!r}"[:500]],
                        }
                    )
                report = write_report(args, argv, now, started, argon, results, out_dir)
    if report is not None:
        append_history(report, out_dir / HISTORY)  # once, with every part
    return finish(results)


def write_report(
    args: argparse.Namespace,
    argv: Sequence[str] | None,
    now: datetime,
    started: float,
    argon: dict[str, Any],
    results: list[dict[str, Any]],
    out_dir: Path,
) -> dict[str, Any]:
    """Write the JSON and Markdown of what has run so far (called after every part);
    the report."""
    commands = [" ".join([Path(sys.executable).name, "-m", "bench.run", *(argv or sys.argv[1:])])]
    for res in results:
        if "failed" in res:
            continue
        commands.append(f"# {res['backend']} {res['size']}: {res['server_command']}")
        commands += [*res["wrk_commands"][:3], "# … one wrk script per route (see JSON)"]
    meta = {
        "date": now.strftime("%Y-%m-%d %H:%M UTC"),
        "quick": args.quick,
        "sizes": args.sizes,
        "backends": args.backends,
        "rounds": args.rounds,
        "duration": args.duration,
        "connections": CONNECTIONS,
        "seed": args.seed,
        "versions": versions(),
        "machine": {**machine(), "loadavg_end": Path("/proc/loadavg").read_text().split()[:3]},
        "argon2": argon,
        "settings": {
            k: v
            for k, v in seed.bench_env("sqlite", "10k", Path("x")).items()
            if "SECRET" not in k and "DATABASE" not in k
        },
        "commands": commands,
        "seconds": round(time.perf_counter() - started, 1),
        "git": _git_head(),
    }
    report: dict[str, Any] = {"meta": meta, "results": results}
    sizes, rows = scaling(results)
    report["scaling_sizes"], report["scaling"] = sizes, rows
    # latest.json/.md and one history entry: a run the docs cite is copied to a name
    # of its own by hand (bench/results/ keeps only those, see docs/performance.md).
    (out_dir / "latest.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    md = markdown(report)
    (out_dir / "latest.md").write_text(md)
    log(f"wrote {out_dir / 'latest.json'} and latest.md ({meta['seconds']} s)")
    return report


#: One file every run appends its ratios to (under --out): the results folder keeps
#: latest.md, this history, and only the full reports the docs cite.
HISTORY = "history.md"

#: The routes and checks a history entry keeps, in this order.
_HISTORY_ROUTES = (
    ("tracking", "tracking"),
    ("public_first", "public list"),
    ("public_deep", "deep ÷ first"),
    ("agency_list", "agency list"),
    ("agency_list_html", "agency HTML"),
    ("submission", "submission"),
)


def _git_head() -> str:
    try:
        found = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parent,
        )
    except (OSError, subprocess.CalledProcessError):
        return "?"
    return found.stdout.strip() or "?"


def history_entry(report: dict[str, Any]) -> str:
    """One run as a short Markdown section: when, which code, how loaded, and per
    database and size the ratios to hello-world and the checks."""
    m = report["meta"]
    head = (
        f"## {m['date']} · {'quick' if m['quick'] else 'full'} · code {m.get('git', '?')}\n\n"
        f"Load average at start {' '.join(m['machine']['loadavg_start'])}; raw argon2id "
        f"{m['argon2'].get('verifications_per_s', '?') if isinstance(m['argon2'], dict) else '?'}"
        "/s. Ratios to hello-world of the same run.\n\n"
    )
    cols = [label for _, label in _HISTORY_ROUTES]
    lines = [
        "| database · size | " + " | ".join(cols) + " | log-ins ÷ raw | mixed failed / locked |",
        "|---" * (len(cols) + 3) + "|",
    ]
    for res in report["results"]:
        cells = []
        routes = res.get("routes") or {}
        for name, _ in _HISTORY_ROUTES:
            r = routes.get(name) or {}
            value = r.get("vs_first") if name == "public_deep" else r.get("ratio")
            cells.append("—" if value is None else f"{value:.3f}")
        login = (res.get("login") or {}).get("ratio_to_raw")
        mixed = res.get("mixed") or {}
        void = " (void: errors)" if res.get("void") else ""
        lines.append(
            f"| {res['backend']} · {res['size']}{void} | "
            + " | ".join(cells)
            + f" | {'—' if login is None else f'{login:.3f}'}"
            + f" | {mixed.get('errors', '—')} / {mixed.get('database_locked', '—')} |"
        )
    return head + "\n".join(lines) + "\n"


def append_history(report: dict[str, Any], path: Path) -> None:
    """Append :func:`history_entry` of ``report`` to ``path`` (created with a title)."""
    if not path.exists():
        path.write_text(
            "# Benchmark history\n\nOne section per run, appended by `python -m bench.run`"
            " (see docs/performance.md). Newest last.\n"
        )
    with path.open("a") as f:
        f.write("\n" + history_entry(report))


def merge(files: Sequence[str], out_dir: Path) -> int:
    """Put the parts of several runs (e.g. one per database) into one report."""
    parts = [json.loads(Path(f).read_text()) for f in files]
    by: dict[tuple[str, str], dict[str, Any]] = {}
    for part in parts:
        for res in part["results"]:
            res["from_run"] = part["meta"]["date"]
            by[(res["backend"], res["size"])] = res
    order = {"10k": 0, "100k": 1, "1m": 2}
    results = sorted(by.values(), key=lambda r: (r["backend"] != "sqlite", order[r["size"]]))
    meta = dict(parts[-1]["meta"])
    meta["merged_from"] = [str(f) for f in files]
    meta["commands"] = [c for part in parts for c in part["meta"]["commands"]]
    report: dict[str, Any] = {"meta": meta, "results": results}
    report["scaling_sizes"], report["scaling"] = scaling(results)
    stem = f"merged-{meta['date'][:10]}"
    (out_dir / f"{stem}.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    md = markdown(report)
    (out_dir / f"{stem}.md").write_text(md)
    (out_dir / "latest.md").write_text(md)
    log(f"wrote {out_dir / (stem + '.md')} and latest.md")
    return 0


def finish(results: list[dict[str, Any]]) -> int:
    void = [f"{r['backend']} {r['size']}: {v}" for r in results for v in r["void"]]
    if void:
        print("bench: errors — the run is void:\n  " + "\n  ".join(void), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
