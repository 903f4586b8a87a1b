"""Benchmark `acewatch serve`: requests/s and p95 latency of /api/check and /check under 50 concurrent clients.

Run:  .venv/bin/python bench/web.py [--exhibits 40k] [--clients 50] [--seconds 5] [--rounds 3] [--store PATH]

The store is bench/check_startup.py's: one healthy ACE run of 40k exhibits with its name index, a
Coursera run and a finished cycle, written through the real store functions (or --store, a file
built earlier by this script). The server is the real command (`python -m acewatch.cli --db ...
serve`, uvicorn, one process, access log on as deployed) in its own process; this process is the
load: `--clients` keep-alive HTTP/1.1 connections on asyncio, each sending its next request as soon
as the last answer arrived (closed loop), so p95 includes the queueing that 50 clients cause.

Each figure is compared with the trivial endpoint of the same server in the same run (`/healthz`:
an in-memory answer while the store was read within the last second), scenarios interleaved round
by round so machine noise hits all of them alike. Two workloads for each check route:

* warm: 300 popular names (exact ACE names, a word off, unknown) asked again and again; a server
  that answered a name in this cycle today answers it from memory;
* cold: every request a name nobody asked before (ACE titles, each a word short, lower-cased,
  or with a typo), so every request runs the whole check: the worst case.

Targets (issue 16): /api/check at least 30% of the trivial endpoint's throughput, p95 under 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

TARGET_RATIO = 0.30
TARGET_P95 = 0.050
_LENGTH = re.compile(rb"content-length:\s*(\d+)", re.IGNORECASE)


def build(path: Path, size: int, seed: int) -> None:
    from check_startup import build_store

    started = time.perf_counter()
    build_store(path, size, seed)
    print(f"... store with {size:,} ACE exhibits built in {time.perf_counter() - started:.0f} s", file=sys.stderr)


def titles(path: Path) -> list[str]:
    with sqlite3.connect(path) as connection:
        return sorted(title for (title,) in connection.execute("SELECT DISTINCT title FROM ace_exhibit"))


def variant(title: str, rng: random.Random) -> str:
    """A name a person might type: the title, a word short, lower-cased, or with one letter doubled."""
    words = title.split()
    kind = rng.randrange(4)
    if kind == 1 and len(words) > 2:
        words.pop(rng.randrange(len(words)))
        return " ".join(words)
    if kind == 2:
        return title.lower()
    if kind == 3:
        at = rng.randrange(len(title))
        return title[:at] + title[at] + title[at:]
    return title


def workloads(names: list[str], seed: int, cold_needed: int) -> tuple[list[str], list[str], list[str]]:
    """(warm pool, cold names for /api/check, cold names for /check): the cold ones all distinct."""
    rng = random.Random(seed)
    shuffled = names[:]
    rng.shuffle(shuffled)
    warm = [variant(t, rng) for t in shuffled[:290]] + [f"Underwater Basket Weaving {i}" for i in range(10)]
    rest = shuffled[290:]
    candidates = list(dict.fromkeys(variant(t, rng) for t in rest))
    if len(candidates) < 2 * cold_needed:
        candidates += [f"{t} Specialization" for t in rest]
    popular = set(warm)
    candidates = list(dict.fromkeys(c for c in candidates if c not in popular))
    half = len(candidates) // 2
    return warm, candidates[:half], candidates[half:]


class Server:
    def __init__(self, db: str, workdir: Path) -> None:
        from tests.listeners import free_port

        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("ACEWATCH_")}
        env.update({"HOME": str(workdir), "ACEWATCH_DB": db})
        self.log = open(workdir / "serve.log", "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "acewatch.cli", "serve", "--port", str(self.port)],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=5).read()
                return
            except OSError:
                time.sleep(0.1)
        raise SystemExit("the server did not start; see serve.log")

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()


async def one_client(port: int, paths, stop_at: float, latencies: list[float], errors: list[str]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < stop_at:
            path = next(paths, None)
            if path is None:
                errors.append("ran out of cold names")
                return
            started = time.perf_counter()
            writer.write(f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            await reader.readexactly(int(_LENGTH.search(head).group(1)))
            latencies.append(time.perf_counter() - started)
            if not head.startswith(b"HTTP/1.1 200"):
                errors.append(head.split(b"\r\n", 1)[0].decode())
    finally:
        writer.close()


async def load(port: int, paths, clients: int, seconds: float) -> tuple[list[float], float, list[str]]:
    latencies: list[float] = []
    errors: list[str] = []
    started = time.perf_counter()
    await asyncio.gather(*(one_client(port, paths, started + seconds, latencies, errors) for _ in range(clients)))
    return latencies, time.perf_counter() - started, errors


def run_loop(coroutine):
    """asyncio.run on uvloop when installed (as the server runs): the load costs the shared cores less."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def check_path(route: str, name: str) -> str:
    return f"{route}?q={urllib.parse.quote(name, safe='')}"


def warm_paths(route: str, pool: list[str]):
    while True:
        for name in pool:
            yield check_path(route, name)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def run(args: argparse.Namespace) -> bool:
    from match import parse_sizes

    size = parse_sizes(args.exhibits)[0]
    workdir = Path(tempfile.mkdtemp(prefix="acewatch-bench-web-"))
    try:
        store = Path(args.store) if args.store else workdir / "acewatch.db"
        if not store.exists():
            build(store, size, args.seed)
        warm, cold_api, cold_page = workloads(titles(store), args.seed, cold_needed=20_000)
        server = Server(f"sqlite:///{store}", workdir)
        try:
            return measure(server, args, warm, iter(cold_api), iter(cold_page), size)
        finally:
            server.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def measure(server: Server, args: argparse.Namespace, warm: list[str], cold_api, cold_page, size: int) -> bool:
    for name in warm:  # the first asking of each popular name (and the name index read once)
        for route in ("/api/check", "/check"):
            urllib.request.urlopen(f"http://127.0.0.1:{server.port}{check_path(route, name)}", timeout=60).read()
    scenarios = {
        "/healthz (trivial)": lambda: iter(lambda: "/healthz", None),
        "/api/check warm": lambda: warm_paths("/api/check", warm),
        "/check warm": lambda: warm_paths("/check", warm),
        "/api/check cold": lambda: (check_path("/api/check", n) for n in cold_api),
        "/check cold": lambda: (check_path("/check", n) for n in cold_page),
    }
    results: dict[str, dict[str, list]] = {label: {"rps": [], "lat": [], "cpu": []} for label in scenarios}
    for _round in range(args.rounds):
        for label, paths in scenarios.items():
            cpu = server.cpu_seconds()
            latencies, wall, errors = run_loop(load(server.port, paths(), args.clients, args.seconds))
            if errors:
                raise SystemExit(f"{label}: {len(errors)} failed requests, e.g. {errors[0]}")
            results[label]["rps"].append(len(latencies) / wall)
            results[label]["lat"].extend(latencies)
            results[label]["cpu"].append((server.cpu_seconds() - cpu) / max(1, len(latencies)))
    return report(results, args, size)


def report(results: dict[str, dict[str, list]], args: argparse.Namespace, size: int) -> bool:
    base = statistics.median(results["/healthz (trivial)"]["rps"])
    print(
        f"\n## acewatch serve: {args.clients} concurrent clients, SQLite store with {size:,} ACE exhibits "
        f"({args.rounds} rounds x {args.seconds:g} s per scenario, interleaved; load {os.getloadavg()[0]:.1f})\n"
    )
    print("| scenario | requests/s (median of rounds) | x trivial | p50 | p95 | server CPU/request |")
    print("|---|---|---|---|---|---|")
    for label, figures in results.items():
        rps = statistics.median(figures["rps"])
        lat = figures["lat"]
        print(
            f"| {label} | {rps:,.0f} | {rps / base:.2f} | {statistics.median(lat) * 1000:.1f} ms | "
            f"{p95(lat) * 1000:.1f} ms | {statistics.median(figures['cpu']) * 1000:.2f} ms |"
        )
    ok = True
    for label in ("/api/check warm", "/api/check cold"):
        ratio = statistics.median(results[label]["rps"]) / base
        tail = p95(results[label]["lat"])
        met = ratio >= TARGET_RATIO and tail < TARGET_P95
        ok &= met
        print(
            f"\n{label}: {ratio:.0%} of the trivial endpoint's throughput (target >= {TARGET_RATIO:.0%}), "
            f"p95 {tail * 1000:.1f} ms (target < {TARGET_P95 * 1000:.0f} ms): {'met' if met else 'MISSED'}"
        )
    return ok


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exhibits", default="40k")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--store", help="a store file built earlier (kept); built into a temporary folder if absent")
    args = parser.parse_args(argv)
    raise SystemExit(0 if run(args) else 1)


if __name__ == "__main__":
    main()
