# ruff: noqa: S603 - our own commands
"""A quick look at a few routes, for working on performance (not a benchmark result).

``python -m bench.probe --routes tracking,public_first --seconds 5 [--backend postgresql]
[--profile tracking]`` seeds (cached) the 10k data set, starts the benchmark server, and
prints each route's req/s and its ratio to the hello-world measured just before it.
With ``--profile NAME`` it records that route under ``py-spy`` (which must be on PATH)
into ``var/bench/profile-NAME.txt`` (collapsed stacks; read the top frames with
``--top``). Use ``make bench`` for figures worth reporting.
"""

from __future__ import annotations

import argparse
import collections
import shutil
import subprocess
import tempfile
from pathlib import Path

from . import run, seed


def top_frames(collapsed: Path, limit: int = 40) -> str:
    """Self time and inclusive time per function from py-spy's collapsed stacks."""
    own: collections.Counter[str] = collections.Counter()
    incl: collections.Counter[str] = collections.Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        n = int(count)
        total += n
        frames = stack.split(";")
        own[frames[-1]] += n
        for f in set(frames):
            incl[f] += n
    out = [f"total samples {total}", "-- self"]
    out += [f"{n * 100 / total:5.1f}% {f}" for f, n in own.most_common(limit)]
    out.append("-- inclusive")
    out += [f"{n * 100 / total:5.1f}% {f}" for f, n in incl.most_common(limit)]
    return "\n".join(out)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--routes", default="tracking,public_first,agency_list,submission")
    p.add_argument("--backend", default="sqlite")
    p.add_argument("--size", default="10k")
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--profile", default=None)
    p.add_argument("--top", type=int, default=40)
    p.add_argument("--idle", action="store_true", help="profile every thread, idle included")
    p.add_argument("--burst", action="store_true", help="tracking p99 during a login burst")
    p.add_argument("--connections", type=int, default=run.CONNECTIONS)
    args = p.parse_args()
    if args.backend == "sqlite":
        info = seed.ensure_sqlite(args.size, log=run.log)
        env = seed.bench_env("sqlite", args.size, seed.working_sqlite(info["path"], args.size))
    else:
        seed.ensure_postgres(args.size, log=run.log)
        seed.working_postgres(args.size)
        env = seed.bench_env("postgresql", args.size)
    facts = run.db_facts(args.backend, env["ASPIRASI_DATABASE_URL"])
    with (
        tempfile.TemporaryDirectory() as tmp,
        run.Server(env, seed.VAR / "probe-server.log") as server,
    ):
        wrk = run.Wrk(server.base, Path(tmp))
        sc = run.build_scenarios(server.base, facts)
        for name in args.routes.split(","):
            evaluator = {"evaluator": sc.evaluator, "evaluator_month": sc.evaluator_month}
            reqs = sc.login if name == "login" else sc.routes.get(name) or evaluator[name] or []
            wrk.run("warm", reqs, 1)
            hello = wrk.run("hello", sc.hello, args.seconds, connections=args.connections)
            spy = None
            if name == args.profile:
                out = seed.VAR / f"profile-{name}.txt"
                assert server.proc is not None
                spy = subprocess.Popen(
                    [
                        shutil.which("py-spy") or "py-spy",
                        "record",
                        *(["--gil"] if not args.idle else ["--idle", "--threads"]),
                        "--nonblocking",
                        "--format",
                        "raw",
                        "-r",
                        "200",
                        "-o",
                        str(out),
                        "-p",
                        str(server.proc.pid),
                        "-d",
                        str(int(args.seconds)),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            r = wrk.run(name, reqs, args.seconds, connections=args.connections)
            print(
                f"{name:>16}: {r.rps:7.0f} req/s  ratio {r.rps / hello.rps:.3f}  "
                f"(hello {hello.rps:.0f})  p50 {r.p50_ms:.1f} p99 {r.p99_ms:.1f} ms  errors {r.errors}",
                flush=True,
            )
            if spy is not None:
                spy.wait()
                print(top_frames(out, args.top))
        if args.burst:
            track = sc.routes["tracking"]
            full = wrk.run("t-full", track, args.seconds)
            delay = run.CONNECTIONS * 1000 / (full.rps / 2)
            alone = wrk.run("t-fixed", track, args.seconds, delay_ms=delay)
            lg = wrk.run("login", sc.login, args.seconds, connections=run.LOGIN_CONNECTIONS)
            burst = wrk.start("burst", sc.login, args.seconds, connections=run.LOGIN_CONNECTIONS)
            during = wrk.run("t-burst", track, args.seconds, delay_ms=delay)
            logins = run.Wrk.finish(*burst)
            print(
                f"tracking at {full.rps / 2:.0f} req/s: p99 {alone.p99_ms:.1f} ms alone, "
                f"{during.p99_ms:.1f} ms during a login burst "
                f"({during.p99_ms / alone.p99_ms:.2f}x; {during.rps:.0f} req/s served); "
                f"logins alone {lg.rps:.1f}/s, during {logins.rps:.1f}/s"
            )
        print("memory", server.memory())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
