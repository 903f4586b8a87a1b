"""acewatch's end-to-end benchmark: crawl, store, diff, match and peak memory, per catalog size.

Run:  python bench/run.py [--sizes 1k,10k] [--seed 7] [--pg postgresql://postgres@127.0.0.1:5432/test]
      python bench/run.py --sizes 100k          (on demand: about 25 minutes)

For each size it generates (seeded, bench/sitegen.py) a synthetic ACE National Guide and
Coursera catalog of `size` exhibits and `size` programs, serves it on 127.0.0.1 from a
separate process (bench/server.py), and measures in the same run:

* crawl: pages/s of the real crawl (`acewatch.crawl.crawl_sources`: the `crawler.run` child,
  spiders + parsing + SnapshotPipeline + store) against the baseline spider
  (bench/baseline_crawl.py: the same links, settings and process start, no parsing or storing);
  both as wall time of the crawl child, start-up included. Target: >= 70 % of the baseline.
  The server's own CPU per page is reported so it can be ruled out as the limit.
* store: `store.runs.save_snapshot` and `store.runs.SnapshotWriter` (the crawl's streaming path)
  of `size` ACE records (and `size` Coursera records)
  against raw `sqlite3.executemany` of the same rows (prepared outside the timing), and on
  PostgreSQL against raw psycopg `executemany` and `COPY`. Target: within 2x.
* diff: `store.runs.snapshot_changes` between two `size`-record snapshots (1 % removed,
  1 % added, 2 % changed), SQLite and PostgreSQL, with the Python heap peak of the call.
  Target at 100k: under 0.5 s, memory flat.
* match: `monitor.matching.match_catalog` of every program against every exhibit (2 workers).
* memory: max RSS of the crawler child and of the parent (the monitor side of a full run:
  `crawl_sources` then `acewatch.cycle.conclude_cycle`: health gate, matching, events).
  Target at 100k: under 500 MB each.

Then how each figure grows from the smallest to the largest size, as an exponent
(time ~ size^k; k <= 1 means no faster than linear).

Timings are medians within this run; compare ratios, not absolute times across runs
(see /work/shared/baselines.md).
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import sitegen  # noqa: E402

PY = sys.executable
DEFAULT_PG = os.environ.get("ACEWATCH_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
ACE_COLUMNS = (
    "run_id",
    "cid",
    "ace_id",
    "version",
    "organization",
    "title",
    "url",
    "periods",
    "parse_status",
    "problem",
    "content_hash",
)
COURSERA_COLUMNS = (
    "run_id",
    "program_id",
    "slug",
    "variant",
    "api_name",
    "title",
    "partner",
    "url",
    "ace_claim",
    "ace_credits",
    "claim_text",
    "parse_status",
    "problem",
    "content_hash",
)


def vm_hwm_mb(pid: int | str = "self") -> float:
    """Peak resident set of a process (VmHWM): its own, unlike ru_maxrss, which a child
    started by fork+exec inherits from its parent's peak."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class ChildPeak:
    """Samples the peak RSS (VmHWM) of this process's children while a block runs."""

    def __init__(self, every: float = 0.2):
        import threading

        self.every, self.peak, self.stop = every, 0.0, threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _children(self) -> list[str]:
        pids = []
        for task in Path("/proc/self/task").iterdir():
            try:
                pids += (task / "children").read_text().split()
            except OSError:
                pass
        return pids

    def _run(self) -> None:
        while not self.stop.wait(self.every):
            for pid in self._children():
                self.peak = max(self.peak, vm_hwm_mb(pid))

    def __enter__(self) -> ChildPeak:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join()


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- the server


class Server:
    """bench/server.py in its own process (its own GIL), stopped by closing its stdin."""

    def __init__(self, size: int, seed: int):
        self.proc = subprocess.Popen(
            [PY, str(ROOT / "bench" / "server.py"), "--size", str(size), "--seed", str(seed)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("bench/server.py did not start")
        self.info = json.loads(line)

    def stats(self) -> dict:
        from urllib.request import urlopen

        with urlopen(self.info["stats"], timeout=10) as answer:
            return json.loads(answer.read())

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def bench_config(db: str, info: dict, home: Path):
    from acewatch.config import load_config

    config = load_config(db=db, environ={"HOME": str(home)})
    config = config.with_sites({k: info[k] for k in ("ace", "coursera_api", "coursera_site")}, info["organizations"])
    # bench/server.py models the catalog API (its robots.txt permits it), not the sitemaps.
    return replace(
        config,
        coursera=replace(config.coursera, discovery="api"),
        crawl=replace(config.crawl, timeout_seconds=3 * 3600),
    )


# --------------------------------------------------------------------------- crawl


def baseline_crawl(info: dict, home: Path) -> dict:
    from acewatch.crawl import KnownExhibits, crawl_spec

    config = bench_config(f"sqlite:///{home / 'baseline.db'}", info, home)
    spec = crawl_spec(config, {}, ("ace", "coursera"), "off", KnownExhibits())
    t0 = time.perf_counter()
    done = subprocess.run(
        [PY, str(ROOT / "bench" / "baseline_crawl.py")],
        input=spec.to_json(),
        text=True,
        capture_output=True,
        check=True,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["wall"] = time.perf_counter() - t0
    return result


def full_run(info: dict, home: Path, db: str) -> dict:
    """A full run in a worker process: `crawl_sources` (crawler child), then `conclude_cycle`."""
    done = subprocess.run(
        [PY, str(ROOT / "bench" / "run.py"), "--worker"],
        text=True,
        capture_output=True,
        input=json.dumps({"info": info, "home": str(home), "db": db}),
    )
    if done.returncode != 0:
        raise RuntimeError(f"full-run worker failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def worker() -> int:
    """Runs in its own process: what `acewatch run` does, measured (stdin: JSON spec, stdout: JSON)."""
    spec = json.load(sys.stdin)
    from acewatch.crawl import crawl_sources
    from store.database import open_engine
    from store.runs import get_run

    home = Path(spec["home"])
    engine = open_engine(spec["db"])
    config = bench_config(spec["db"], spec["info"], home)
    rss_before = vm_hwm_mb()
    t0 = time.perf_counter()
    with ChildPeak() as child:
        run_ids = crawl_sources(config, engine, ("ace", "coursera"), progress="off")
    crawl_wall = time.perf_counter() - t0
    child_rss = child.peak
    runs = {source: get_run(engine, run_id) for source, run_id in run_ids.items()}
    out = {
        "crawl_wall": crawl_wall,
        "child_rss_mb": child_rss,
        "parent_rss_before_crawl_mb": rss_before,
        "runs": {
            s: {
                "outcome": r.outcome,
                "pages": r.pages,
                "records": r.records,
                "unknown": r.unknown,
                "errors": r.errors,
                "reason": r.finish_reason,
            }
            for s, r in runs.items()
        },
        "child_ru_maxrss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "parent_rss_after_crawl_mb": vm_hwm_mb(),
    }
    try:
        from acewatch.cycle import conclude_cycle

        t0 = time.perf_counter()
        report = conclude_cycle(config, engine, run_ids)
        out["conclude_wall"] = time.perf_counter() - t0
        out["healthy"] = report.healthy
        out["recommended"] = sum(m["status"] == "recommended" for m in report.matches)
    except Exception as exc:  # acewatch/cycle.py is edited elsewhere: report, do not hide the crawl figures
        out["conclude_error"] = f"{type(exc).__name__}: {exc}"
    out["parent_rss_mb"] = vm_hwm_mb()
    engine.dispose()
    print(json.dumps(out), flush=True)
    return 0


def crawl_stage(size: int, seed: int, tmp: Path, rounds: int = 1) -> dict:
    """Baseline and real crawl alternated `rounds` times, then the baseline once more.

    The machine is shared and noisy: each rate is the median of its runs (the real
    crawl's other figures come from its median run; memory is the largest seen).
    """
    server = Server(size, seed)
    bases, reals, costs = [], [], []
    try:
        log(f"{size:,}: server up ({server.info['startup_seconds']} s, prerendered={server.info['prerendered']})")
        for n in range(rounds + 1):
            base = baseline_crawl(server.info, tmp)
            bases.append(base)
            log(f"{size:,}: baseline {sum(base['pages'].values()):,} pages in {base['wall']:.1f} s")
            if n == rounds:
                break
            s1 = server.stats()
            real = full_run(server.info, tmp, f"sqlite:///{tmp / f'acewatch-{n}.db'}")
            reals.append(real)
            costs.append((s1, server.stats(), real["crawl_wall"]))
            log(
                f"{size:,}: acewatch {sum(r['pages'] for r in real['runs'].values()):,} pages in "
                f"{real['crawl_wall']:.1f} s"
            )
    finally:
        server.stop()
    base = sorted(bases, key=lambda b: b["wall"])[len(bases) // 2]
    order = sorted(range(len(reals)), key=lambda i: reals[i]["crawl_wall"])
    middle = order[(len(order) - 1) // 2]
    real = dict(reals[middle])
    real["child_rss_mb"] = max(r["child_rss_mb"] for r in reals)
    real["parent_rss_mb"] = max(r["parent_rss_mb"] for r in reals)
    base_pages = sum(base["pages"].values())
    real_pages = sum(r["pages"] for r in real["runs"].values())
    s1, s2, wall = costs[middle]
    pages = sum(s2["requests"].values()) - sum(s1["requests"].values())
    cpu = s2["cpu_seconds"] - s1["cpu_seconds"]
    return {
        "baseline": base,
        "real": real,
        "base_pages": base_pages,
        "real_pages": real_pages,
        "base_rate": base_pages / base["wall"],
        "real_rate": real_pages / real["crawl_wall"],
        "base_walls": [b["wall"] for b in bases],
        "real_walls": [r["crawl_wall"] for r in reals],
        "server_real": {"ms_per_page": 1000 * cpu / max(1, pages), "busy": cpu / wall},
    }


# --------------------------------------------------------------------------- store


def _prepared_rows(items: list[dict], columns: tuple[str, ...], run_id: int) -> list[tuple]:
    """The exact column values save_snapshot writes (JSON text, content hash), built once, untimed."""
    from store.models import AceExhibit, CourseraProgram
    from store.runs import _RowMaker

    maker = _RowMaker(AceExhibit if "cid" in columns else CourseraProgram, run_id)
    assert maker.columns == columns, (maker.columns, columns)
    return [maker.make(item) for item in items]


def _median(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        gc.collect()
        times.append(fn())
    return statistics.median(times)


def row_preparation(items: list[dict], source: str, repeats: int) -> float:
    """Time of turning records into rows alone (content hash + JSON text): part of save_snapshot's work."""
    from store.models import AceExhibit, CourseraProgram
    from store.runs import _RowMaker

    maker = _RowMaker(AceExhibit if source == "ace" else CourseraProgram, 1)

    def once() -> float:
        t0 = time.perf_counter()
        for item in items:
            maker.make(item)
        return time.perf_counter() - t0

    return _median(once, repeats)


def write_streamed(engine, run_id: int, records: list[dict], stats: dict) -> None:
    """The crawl's way to write a snapshot: `SnapshotWriter` (staged as items come, committed whole)."""
    from store.runs import SnapshotWriter

    writer = SnapshotWriter(engine, run_id)
    for record in records:
        writer.add(record)
    writer.finish(stats)


def store_sqlite(items: dict[str, list[dict]], tmp: Path, repeats: int) -> dict:
    from store.database import open_engine
    from store.runs import begin_run, save_snapshot

    out = {}
    for source, columns in (("ace", ACE_COLUMNS), ("coursera", COURSERA_COLUMNS)):
        table = "ace_exhibit" if source == "ace" else "coursera_program"

        def ours(write) -> Callable[[], float]:
            def go() -> float:
                path = tmp / f"store-{uuid.uuid4().hex[:8]}.db"
                engine = open_engine(f"sqlite:///{path}")
                run_id = begin_run(engine, source)
                t0 = time.perf_counter()
                write(engine, run_id, items[source], {"pages": len(items[source])})
                took = time.perf_counter() - t0
                engine.dispose()
                path.unlink()
                return took

            return go

        def raw() -> float:
            path = tmp / f"raw-{uuid.uuid4().hex[:8]}.db"
            engine = open_engine(f"sqlite:///{path}")
            run_id = begin_run(engine, source)
            engine.dispose()
            rows = _prepared_rows(items[source], columns, run_id)
            connection = sqlite3.connect(path)
            connection.execute("PRAGMA journal_mode=WAL")
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
            t0 = time.perf_counter()
            with connection:
                connection.executemany(sql, rows)
            took = time.perf_counter() - t0
            connection.close()
            path.unlink()
            return took

        out[source] = {
            "ours": _median(ours(save_snapshot), repeats),
            "writer": _median(ours(write_streamed), repeats),
            "raw": _median(raw, repeats),
            "prep": row_preparation(items[source], source, repeats),
        }
    return out


def store_pg(items: dict[str, list[dict]], url: str, repeats: int) -> dict:
    import psycopg

    from store.database import open_engine
    from store.runs import begin_run, save_snapshot

    engine = open_engine(url)
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    out = {}
    for source, columns in (("ace", ACE_COLUMNS), ("coursera", COURSERA_COLUMNS)):
        table = "ace_exhibit" if source == "ace" else "coursera_program"

        def truncate():
            with psycopg.connect(dsn, autocommit=True) as connection:
                connection.execute(f"TRUNCATE {table}")
                connection.execute("VACUUM ANALYZE " + table)

        def ours(write) -> Callable[[], float]:
            def go() -> float:
                truncate()
                run_id = begin_run(engine, source)
                t0 = time.perf_counter()
                write(engine, run_id, items[source], {"pages": len(items[source])})
                return time.perf_counter() - t0

            return go

        def raw(mode: str):
            def go() -> float:
                truncate()
                run_id = begin_run(engine, source)
                rows = _prepared_rows(items[source], columns, run_id)
                with psycopg.connect(dsn) as connection:
                    t0 = time.perf_counter()
                    with connection.cursor() as cursor:
                        if mode == "copy":
                            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                                for row in rows:
                                    copy.write_row(row)
                        else:
                            cursor.executemany(
                                f"INSERT INTO {table} ({', '.join(columns)}) "
                                f"VALUES ({', '.join(['%s'] * len(columns))})",
                                rows,
                            )
                    connection.commit()
                    return time.perf_counter() - t0

            return go

        out[source] = {
            "ours": _median(ours(save_snapshot), repeats),
            "writer": _median(ours(write_streamed), repeats),
            "executemany": _median(raw("executemany"), repeats),
            "copy": _median(raw("copy"), repeats),
        }
    engine.dispose()
    return out


# --------------------------------------------------------------------------- diff


def changed_snapshot(items: list[dict], seed: int) -> tuple[list[dict], dict[str, int]]:
    """The next day's ACE snapshot: 1 % removed, 1 % added, 2 % changed (credits or title)."""
    rng = random.Random(f"diff-{seed}-{len(items)}")
    n = len(items)
    removed = set(rng.sample(range(n), max(1, n // 100)))
    changed = set(rng.sample(sorted(set(range(n)) - removed), max(1, n // 50)))
    new = []
    for i, item in enumerate(items):
        if i in removed:
            continue
        if i in changed:
            item = json.loads(json.dumps(item))
            if i % 2:
                item["title"] += " (v.2)"
            else:
                item["periods"][-1]["credits"][0]["hours"] += 1.0
        new.append(item)
    for k in range(max(1, n // 100)):
        extra = json.loads(json.dumps(items[k]))
        extra["cid"] = f"added-{k:06d}-c4-ea11-a812-000d3a33232a"
        new.append(extra)
    return new, {"removed": len(removed), "changed": len(changed), "added": max(1, n // 100)}


def diff_stage(items: list[dict], url: str, seed: int, repeats: int) -> dict:
    from store.database import open_engine
    from store.runs import begin_run, save_snapshot, snapshot_changes

    engine = open_engine(url)
    old = begin_run(engine, "ace")
    save_snapshot(engine, old, items, {})
    new_items, expected = changed_snapshot(items, seed)
    new = begin_run(engine, "ace")
    save_snapshot(engine, new, new_items, {})
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE ace_exhibit")
    found = snapshot_changes(engine, "ace", old, new)
    got = {k: len(v) for k, v in found.items()}
    if got != expected:
        raise AssertionError(f"snapshot_changes found {got}, expected {expected}")

    def once() -> float:
        t0 = time.perf_counter()
        snapshot_changes(engine, "ace", old, new)
        return time.perf_counter() - t0

    seconds = _median(once, repeats)
    tracemalloc.start()
    snapshot_changes(engine, "ace", old, new)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    engine.dispose()
    return {"seconds": seconds, "peak_mb": peak / 2**20, "changes": sum(expected.values())}


# --------------------------------------------------------------------------- match


def match_stage(generated: sitegen.SyntheticSite, ace: list[dict], coursera: list[dict]) -> dict:
    from monitor.matching import Candidate, match_catalog

    programs = [Candidate(key=p["program_id"], name=p["title"], org=p["partner"]) for p in coursera]
    exhibits = [Candidate(key=e["cid"], name=e["title"], org=e["organization"]) for e in ace]
    match_catalog(programs[:50], exhibits[:500])  # warm-up: numpy import
    t0 = time.perf_counter()
    results = match_catalog(programs, exhibits, workers=2)
    seconds = time.perf_counter() - t0
    truth = generated.truth
    with_truth = [(p, r) for p, r in zip(programs, results) if truth.get(p.key)]
    top1 = sum(r.exhibit is not None and r.exhibit.key == truth[p.key] for p, r in with_truth) / max(1, len(with_truth))
    return {"seconds": seconds, "top1": top1, "pairs": len(programs)}


# --------------------------------------------------------------------------- report


def growth(xs: list[int], ys: list[float]) -> str:
    if len(xs) < 2 or ys[0] <= 0 or ys[-1] <= 0:
        return "-"
    return f"{math.log(ys[-1] / ys[0]) / math.log(xs[-1] / xs[0]):.2f}"


def print_report(rows: list[dict], seed: int, pg: bool) -> None:
    print(f"\n## acewatch benchmark (seed {seed}; size = ACE exhibits = Coursera programs; 2 cores)\n")
    print("### crawl: pages/s, real spiders (parse + store) vs a link-following baseline, same settings, same run\n")
    print(
        "| size | pages | baseline | acewatch | ratio (>= 0.70) | server CPU/page | crawler max RSS | "
        "parent max RSS | full cycle after crawl |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        c = r["crawl"]
        real = c["real"]
        conclude = (
            f"{real['conclude_wall']:.1f} s"
            if "conclude_wall" in real
            else f"error: {real.get('conclude_error', '?')[:60]}"
        )
        walls = lambda xs: "/".join(f"{x:.1f}" for x in xs)  # noqa: E731
        print(
            f"| {r['label']} | {c['real_pages']:,} | {c['base_rate']:.0f}/s ({walls(c['base_walls'])} s) | "
            f"{c['real_rate']:.0f}/s ({walls(c['real_walls'])} s) | {c['real_rate'] / c['base_rate']:.2f} | "
            f"{c['server_real']['ms_per_page']:.2f} ms ({100 * c['server_real']['busy']:.0f}% of a core) | "
            f"{real['child_rss_mb']:.0f} MB | {real['parent_rss_mb']:.0f} MB | {conclude} |"
        )
    print(
        "\n### store: save_snapshot and SnapshotWriter (the crawl's path: staged, then copied in key order) "
        "vs raw executemany / COPY of the same rows (median; rows for the raw writes prepared untimed)\n"
    )
    head = (
        "| size | source | row prep (hash + JSON) | SQLite save_snapshot | SnapshotWriter | sqlite3 executemany | "
        "ratio save (<= 2) | ratio writer |"
    )
    sep = "|---|---|---|---|---|---|---|---|"
    if pg:
        head += " PG save_snapshot | SnapshotWriter | psycopg executemany | COPY | ratio save vs COPY (<= 2) | ratio writer |"
        sep += "---|---|---|---|---|---|"
    print(head)
    print(sep)
    for r in rows:
        for source in ("ace", "coursera"):
            s = r["store_sqlite"][source]
            line = (
                f"| {r['label']} | {source} | {s['prep']:.3f} s | {s['ours']:.3f} s | {s['writer']:.3f} s | "
                f"{s['raw']:.3f} s | {s['ours'] / s['raw']:.2f} | {s['writer'] / s['raw']:.2f} |"
            )
            if pg:
                p = r["store_pg"][source]
                line += (
                    f" {p['ours']:.3f} s | {p['writer']:.3f} s | {p['executemany']:.3f} s | {p['copy']:.3f} s | "
                    f"{p['ours'] / p['copy']:.2f} | {p['writer'] / p['copy']:.2f} |"
                )
            print(line)
    print("\n### diff (snapshot_changes, two snapshots of `size` records, 4 % changed) and match\n")
    print("| size | diff SQLite | diff PostgreSQL | diff heap peak | match_catalog (2 workers) | top-1 |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        d, m = r["diff_sqlite"], r["match"]
        dpg = f"{r['diff_pg']['seconds']:.3f} s" if pg else "-"
        print(
            f"| {r['label']} | {d['seconds']:.3f} s | {dpg} | {d['peak_mb']:.1f} MB | {m['seconds']:.2f} s | "
            f"{m['top1']:.3f} |"
        )
    if len(rows) > 1:
        xs = [r["size"] for r in rows]
        print(
            f"\n### growth {rows[0]['label']} -> {rows[-1]['label']}: exponent k in figure ~ size^k "
            "(k <= 1: no faster than linear)\n"
        )
        figures = {
            "crawl time per page, acewatch": [
                r["crawl"]["real"]["crawl_wall"] / r["crawl"]["real_pages"] * r["size"] for r in rows
            ],
            "crawl wall, acewatch": [r["crawl"]["real"]["crawl_wall"] for r in rows],
            "crawl wall, baseline": [r["crawl"]["baseline"]["wall"] for r in rows],
            "store SQLite (ace)": [r["store_sqlite"]["ace"]["ours"] for r in rows],
            "store SQLite (ace), SnapshotWriter": [r["store_sqlite"]["ace"]["writer"] for r in rows],
            "diff SQLite": [r["diff_sqlite"]["seconds"] for r in rows],
            "match": [r["match"]["seconds"] for r in rows],
            "crawler max RSS": [r["crawl"]["real"]["child_rss_mb"] for r in rows],
            "parent max RSS": [r["crawl"]["real"]["parent_rss_mb"] for r in rows],
        }
        if pg:
            figures["store PostgreSQL (ace)"] = [r["store_pg"]["ace"]["ours"] for r in rows]
            figures["diff PostgreSQL"] = [r["diff_pg"]["seconds"] for r in rows]
        print("| figure | " + " | ".join(r["label"] for r in rows) + " | k |")
        print("|---|" + "---|" * len(rows) + "---|")
        for name, ys in figures.items():
            if name == "crawl time per page, acewatch":
                continue
            unit = " MB" if "RSS" in name else " s"
            print(f"| {name} | " + " | ".join(f"{y:.2f}{unit}" for y in ys) + f" | {growth(xs, ys)} |")
    print(
        "\ncrawl: baseline = bench/baseline_crawl.py (acewatch's spiders and settings, exhibit/program callbacks "
        "emptied, no pipeline, no parse worker); rates are pages / wall time of the crawl child, start-up included "
        "(~1.5 s baseline, ~3 s acewatch: Scrapy + SQLAlchemy/SQLModel imports, the store), medians of the runs "
        "listed in brackets (baseline and acewatch alternated).\n"
        "store: the raw writes get their rows prepared (JSON text, content hash) outside the timing; "
        "ours include preparing them ('row prep', timed alone: orjson text + the sha256 content hash). "
        "SnapshotWriter is what a crawl uses: rows staged in a temporary table as items arrive (flat memory), "
        "then copied in key order with the 'finished' mark in one transaction.\n"
        "memory: peak RSS (VmHWM) of the crawler child (sampled) and of the parent process that ran "
        "crawl_sources + acewatch.cycle.conclude_cycle (load both snapshots, match, diff, store the cycle)."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="acewatch benchmark: crawl, store, diff, match, memory")
    parser.add_argument("--sizes", default="1k,10k")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--pg", default=DEFAULT_PG, help="PostgreSQL admin URL ('' to skip PostgreSQL)")
    parser.add_argument("--skip", default="", help="comma list of stages to skip: crawl,store,diff,match")
    parser.add_argument("--json", help="also write the raw figures to this file")
    parser.add_argument(
        "--rounds",
        type=int,
        default=0,
        help="baseline/real crawl pairs per size (default 2 up to 20k, else 1); medians count",
    )
    parser.add_argument("--report", help="print the report of earlier --json files (comma list), measure nothing")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker()
    if args.report:
        rows = [row for path in args.report.split(",") for row in json.loads(Path(path).read_text())]
        print_report(sorted(rows, key=lambda r: r["size"]), args.seed, all("store_pg" in r for r in rows))
        return 0
    skip = set(filter(None, args.skip.split(",")))
    pg = bool(args.pg)
    if pg:
        try:
            import psycopg

            psycopg.connect(args.pg, connect_timeout=3).close()
        except Exception as exc:
            log(f"PostgreSQL not reachable ({exc}); PostgreSQL figures skipped")
            pg = False
    if pg:  # scratch databases as the tests make them; imported here, not in the measured worker
        from tests.conftest import _drop_pg_database, _fresh_pg_database
    rows = []
    for label in args.sizes.split(","):
        size = sitegen.parse_size(label)
        repeats = 7 if size <= 2_000 else 3 if size <= 20_000 else 2  # small sizes: one fsync dominates
        row = {"size": size, "label": sitegen.size_label(size)}
        with tempfile.TemporaryDirectory(prefix="acewatch-bench-") as tmpdir:
            tmp = Path(tmpdir)
            t0 = time.perf_counter()
            generated = sitegen.generate(size, args.seed)
            items = {"ace": generated.ace_items(), "coursera": generated.coursera_items()}
            log(f"{size:,}: generated in {time.perf_counter() - t0:.1f} s")
            if "crawl" not in skip:
                row["crawl"] = crawl_stage(size, args.seed, tmp, args.rounds or (2 if size <= 20_000 else 1))
                real = row["crawl"]["real"]
                for source, run in real["runs"].items():
                    if run["outcome"] != "finished" or run["records"] != size or run["unknown"]:
                        log(f"WARNING {source}: {run}")
            if "store" not in skip:
                row["store_sqlite"] = store_sqlite(items, tmp, repeats)
                log(f"{size:,}: store sqlite {row['store_sqlite']}")
                if pg:
                    url, name = _fresh_pg_database(args.pg)
                    try:
                        row["store_pg"] = store_pg(items, url, repeats)
                    finally:
                        _drop_pg_database(args.pg, name)
                    log(f"{size:,}: store pg {row['store_pg']}")
            if "diff" not in skip:
                row["diff_sqlite"] = diff_stage(items["ace"], f"sqlite:///{tmp / 'diff.db'}", args.seed, repeats)
                if pg:
                    url, name = _fresh_pg_database(args.pg)
                    try:
                        row["diff_pg"] = diff_stage(items["ace"], url, args.seed, repeats)
                    finally:
                        _drop_pg_database(args.pg, name)
                log(f"{size:,}: diff {row['diff_sqlite']} {row.get('diff_pg')}")
            if "match" not in skip:
                row["match"] = match_stage(generated, items["ace"], items["coursera"])
                log(f"{size:,}: match {row['match']}")
        rows.append(row)
        del generated, items
        gc.collect()
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1, default=str))
    if not skip:
        print_report(rows, args.seed, pg)
    else:
        print(json.dumps(rows, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
