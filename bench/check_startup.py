"""Benchmark `acewatch check` as a student runs it: a fresh process on a store with 40k ACE exhibits.

Run:  /work/venv/bin/python bench/check_startup.py [--exhibits 40k] [--repeats 15] [--seed 7]
 (or  /work/venv/bin/python bench/match.py --check-startup)

It builds a seeded SQLite store through the real store functions
(``begin_run``/``save_snapshot``/``set_health`` for an ACE and a Coursera
run, ``begin_cycle``/``finish_cycle`` and ``write_name_index`` as the nightly
cycle does), then times fresh processes, interleaved round-robin so machine
noise hits every command alike:

* ``python -c pass`` and ``python -c "import sqlmodel"`` (references, same run),
* ``acewatch check NAME`` through ``python -m acewatch.cli`` and through the
  installed ``acewatch`` entry point, as text and as ``--json``,
* a name one word off (``near``, exit 1) and a name of a leading vendor,
* the same check on a copy of the store without its name index (the
  fallback that normalises every ACE name on each call).

It prints medians, p90 and ratios, then checks with ``python -X importtime``
that ``check`` imports none of Scrapy, SQLAlchemy, SQLModel, Alembic or numpy.
The target is a median under 0.3 s.  Compare ratios, not absolute times
across runs (see /work/shared/baselines.md).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

TARGET_SECONDS = 0.3
FORBIDDEN = ("scrapy", "twisted", "sqlalchemy", "sqlmodel", "alembic", "numpy")
PERIODS = [
    {
        "start": "2023-01-01",
        "end": "2035-12-31",
        "credits": [
            {"level": "Lower-Division Baccalaureate/Associate Degree", "hours": 3, "subject": "computer science"}
        ],
    }
]


def build_store(path: Path, size: int, seed: int) -> dict[str, str]:
    """A store with one healthy ACE run of ``size`` exhibits, a Coursera run, a finished cycle and its name index.

    Returns the names to check: ``exact`` (a university exhibit's exact name:
    no vendor, so the whole catalog is searched), ``vendor`` (a vendor's
    exact name: searched within its organization) and ``near`` (``exact`` one
    word off).
    """
    from match import VENDORS, make_exhibits, make_orgs

    from monitor.names import name_key_rows
    from store.cycles import begin_cycle, finish_cycle
    from store.database import open_engine
    from store.names_index import write_name_index
    from store.runs import begin_run, save_snapshot, set_health

    rng = random.Random(f"{seed}-{size}")
    n_orgs = max(40, min(400, size // 100))
    exhibits = make_exhibits(rng, size, make_orgs(rng, n_orgs))
    records = [
        {
            "cid": e.key,
            "ace_id": f"ACE-{i:06d}",
            "organization": e.org,
            "title": e.name,
            "url": f"https://www.acenet.edu/National-Guide/Pages/Course.aspx?cid={e.key}",
            "periods": PERIODS,
        }
        for i, e in enumerate(exhibits)
    ]
    programs = [
        {
            "program_id": f"P{i:05d}",
            "slug": f"program-{i}",
            "title": e.name,
            "partner": e.org,
            "url": f"https://www.coursera.org/specializations/program-{i}",
        }
        for i, e in enumerate(rng.sample(exhibits, 500))
    ]

    engine = open_engine(f"sqlite:///{path}")
    ace = begin_run(engine, "ace", "https://www.acenet.edu")
    save_snapshot(engine, ace, records, {"pages": size // 25})
    set_health(engine, ace, True, [])
    coursera = begin_run(engine, "coursera", "https://www.coursera.org")
    save_snapshot(engine, coursera, programs, {"pages": 5})
    set_health(engine, coursera, True, [])
    cycle = begin_cycle(engine, ace, coursera, None)
    written = write_name_index(engine, ace, name_key_rows(records))
    finish_cycle(engine, cycle, [], [])
    engine.dispose()
    assert written == len(records), (written, len(records))

    unique = {}
    for e in exhibits:
        unique.setdefault(e.name, []).append(e)
    exact = next(
        e.name
        for e in exhibits
        if e.org not in VENDORS and len(unique[e.name]) == 1 and len(e.name.split()) >= 4 and "Introduction" in e.name
    )
    vendor = next(
        e.name for e in exhibits if e.org in VENDORS and len(unique[e.name]) == 1 and e.name.startswith(e.org)
    )
    near = exact.replace("Introduction", "Intro", 1)
    return {"exact": exact, "vendor": vendor, "near": near}


def without_index(path: Path, copy: Path) -> None:
    """A copy of the store as an acewatch older than the name index would have left it (no name keys)."""
    shutil.copyfile(path, copy)
    with sqlite3.connect(copy) as connection:
        connection.execute("DELETE FROM name_key")
        connection.execute("DELETE FROM name_index")
    connection.close()


def measure(commands: dict[str, list[str]], env: dict[str, str], repeats: int) -> dict[str, list[float]]:
    """Wall time of each command as a fresh process, ``repeats`` rounds, commands interleaved."""
    times: dict[str, list[float]] = {label: [] for label in commands}
    for _ in range(repeats):
        for label, argv in commands.items():
            start = time.perf_counter()
            subprocess.run(argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            times[label].append(time.perf_counter() - start)
    return times


def p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


def imported_modules(argv: list[str], env: dict[str, str]) -> tuple[list[tuple[int, str]], set[str]]:
    """(cumulative us, module) of the top-level imports of ``argv`` run with -X importtime, and every module."""
    result = subprocess.run([argv[0], "-X", "importtime", *argv[1:]], env=env, cwd=ROOT, capture_output=True, text=True)
    top, every = [], set()
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = line.split("|")
        every.add(name.strip())
        if not name.startswith("  "):  # one space after the bar: a top-level import
            top.append((int(cumulative), name.strip()))
    return sorted(top, reverse=True), every


def bench_check_startup(size: int = 40_000, repeats: int = 15, seed: int = 7) -> bool:
    """Build the store, time the commands, print the table; True when every check meets the target."""
    workdir = Path(tempfile.mkdtemp(prefix="acewatch-bench-"))
    try:
        t0 = time.perf_counter()
        store = workdir / "acewatch.db"
        names = build_store(store, size, seed)
        without_index(store, workdir / "no-index.db")
        print(f"... store with {size:,} ACE exhibits built in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        return _bench(workdir, names, size, repeats, seed)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _bench(workdir: Path, names: dict[str, str], size: int, repeats: int, seed: int) -> bool:
    python = sys.executable
    entry = shutil.which("acewatch", path=str(Path(python).parent)) or shutil.which("acewatch")
    db, old_db = f"sqlite:///{workdir / 'acewatch.db'}", f"sqlite:///{workdir / 'no-index.db'}"
    env = {**os.environ, "HOME": str(workdir), "COLUMNS": "120", "PYTHONDONTWRITEBYTECODE": "0"}
    for key in ("ACEWATCH_CONFIG", "ACEWATCH_DB"):
        env.pop(key, None)
    module = [python, "-m", "acewatch.cli"]
    commands = {
        "python -c pass": [python, "-c", "pass"],
        'python -c "import sqlmodel"': [python, "-c", "import sqlmodel"],
        "check EXACT (python -m acewatch.cli)": [*module, "--db", db, "check", names["exact"]],
        "check EXACT --json (python -m acewatch.cli)": [*module, "--db", db, "check", names["exact"], "--json"],
    }
    if entry:
        commands["check EXACT (acewatch entry point)"] = [entry, "--db", db, "check", names["exact"]]
        commands["check EXACT --json (acewatch entry point)"] = [entry, "--db", db, "check", names["exact"], "--json"]
    commands["check NEAR --json (one word off)"] = [*module, "--db", db, "check", names["near"], "--json"]
    commands["check VENDOR --json (vendor's pool)"] = [*module, "--db", db, "check", names["vendor"], "--json"]
    commands["check EXACT --json, no name index (fallback)"] = [
        *module,
        "--db",
        old_db,
        "check",
        names["exact"],
        "--json",
    ]
    expected = {"EXACT": 0, "VENDOR": 0, "NEAR": 1}
    for label, argv in commands.items():  # warm the page cache and .pyc files; check the answers
        result = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True)
        want = next((code for word, code in expected.items() if f"check {word}" in label), 0)
        if result.returncode != want:
            raise SystemExit(
                f"{label}: exit {result.returncode}, expected {want}\n{result.stderr}{result.stdout[:500]}"
            )

    times = measure(commands, env, repeats)
    base = statistics.median(times["python -c pass"])
    heavy = statistics.median(times['python -c "import sqlmodel"'])
    print(
        f"\n## acewatch check start-up: fresh process, SQLite store with {size:,} ACE exhibits "
        f"(seed {seed}, {repeats} runs each, interleaved)\n"
    )
    print(f"EXACT  = {names['exact']!r} (no vendor: all {size:,} names searched)")
    print(f"NEAR   = {names['near']!r}")
    print(f"VENDOR = {names['vendor']!r}\n")
    print("| command | median | p90 | x python -c pass | x import sqlmodel | < 0.3 s |")
    print("|---|---|---|---|---|---|")
    ok = True
    for label, values in times.items():
        median = statistics.median(values)
        verdict = ""
        if label.startswith("check") and "fallback" not in label:
            verdict = "yes" if median < TARGET_SECONDS else "NO"
            ok &= median < TARGET_SECONDS
        print(
            f"| {label} | {median * 1000:.0f} ms | {p90(values) * 1000:.0f} ms | {median / base:.1f}x | "
            f"{median / heavy:.2f}x | {verdict} |"
        )

    top, every = imported_modules(commands["check EXACT --json (python -m acewatch.cli)"], env)
    bad = sorted(m for m in every if m.split(".")[0] in FORBIDDEN)
    rich = any(m.split(".")[0] == "rich" for m in every)
    print(
        f"\n`-X importtime` of check --json: {len(every)} modules; forbidden "
        f"({', '.join(FORBIDDEN)}): {', '.join(bad) if bad else 'none'}; "
        f"rich: {'imported' if rich else 'not imported'}"
    )
    print("largest top-level imports: " + ", ".join(f"{name} {us / 1000:.1f} ms" for us, name in top[:6]))
    text_top, text_every = imported_modules(commands["check EXACT (python -m acewatch.cli)"], env)
    text_bad = sorted(m for m in text_every if m.split(".")[0] in FORBIDDEN)
    print(
        f"`-X importtime` of check (text): {len(text_every)} modules; forbidden: "
        f"{', '.join(text_bad) if text_bad else 'none'}"
    )
    met = ok and not bad and not text_bad
    print(f"\ntarget: every check median < {TARGET_SECONDS} s, nothing heavy imported: {'met' if met else 'MISSED'}")
    return met


def main(argv: list[str] | None = None) -> None:
    from match import parse_sizes

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--exhibits", default="40k", help="ACE exhibits in the store, e.g. 40k")
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    met = bench_check_startup(parse_sizes(args.exhibits)[0], args.repeats, args.seed)
    raise SystemExit(0 if met else 1)


if __name__ == "__main__":
    main()
