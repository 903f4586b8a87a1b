"""Per-page cost of the ACE exhibit parser: a base commit's parser against today's, in one run.

Run:  .venv/bin/python bench/parse.py [--base 655f655] [--pages 400] [--rounds 5]

Why in one run: the machine is shared and noisy, so only a ratio measured in the
same process means anything (see /work/shared/baselines.md). The old parser is
read from git (`git show <base>:crawler/parsing/ace.py`) and loaded as its own
module; both parse the same bytes: synthetic exhibit pages at the crawl's real
weight (`bench/sitegen.py`: fixture markup in both styles plus SharePoint's
~80 KB of scripts and hidden fields), interleaved round by round.
Prints the median ms a page of each, the ratio, and whether they agree on every
page (the old parser cannot read the new layouts; those pages are only timed
for the new one).
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import sitegen  # noqa: E402
from crawler.parsing import ace as new_parser  # noqa: E402

TARGET = 1.5  # issue 12: no more than 1.5x the old parser's cost a page


def old_parser(base: str):
    """The parser as it was at `base`, loaded under another module name."""
    source = subprocess.run(
        ["git", "show", f"{base}:crawler/parsing/ace.py"], cwd=ROOT, check=True, capture_output=True
    ).stdout
    path = Path(tempfile.mkdtemp()) / "ace_at_base.py"
    path.write_bytes(source)
    spec = importlib.util.spec_from_file_location("ace_at_base", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pages(count: int) -> list[bytes]:
    """`count` exhibit pages as the crawl downloads them (both markup styles, padded)."""
    site = sitegen.generate(max(count, 100))
    padding = sitegen.Padding(7)
    return [sitegen.render_exhibit(site, padding, exhibit).encode() for exhibit in site.exhibits[:count]]


def answer(parser, body: bytes):
    try:
        return parser.parse_exhibit(body)
    except parser.ExhibitParseError as exc:
        return f"unreadable: {exc}"


def comparable(result):
    """A parse result without the fields only one of the parsers reads (the new one adds `version`)."""
    return {k: v for k, v in result.items() if k != "version"} if isinstance(result, dict) else result


def per_page_ms(parser, bodies: list[bytes]) -> float:
    start = time.perf_counter()
    for body in bodies:
        answer(parser, body)
    return (time.perf_counter() - start) * 1000 / len(bodies)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--base", default="655f655", help="commit whose parser is the 'before' (default: issue 12's base)"
    )
    parser.add_argument("--pages", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    old = old_parser(args.base)
    bodies = pages(args.pages)
    differ = sum(comparable(answer(old, b)) != comparable(answer(new_parser, b)) for b in bodies)
    times = {"old": [], "new": []}
    for _ in range(args.rounds):  # interleaved, so a noisy neighbour slows both alike
        times["old"].append(per_page_ms(old, bodies))
        times["new"].append(per_page_ms(new_parser, bodies))
    old_ms, new_ms = statistics.median(times["old"]), statistics.median(times["new"])
    size = statistics.mean(len(b) for b in bodies) / 1024
    print(f"{len(bodies)} exhibit pages ({size:.0f} KB each), {args.rounds} rounds, medians")
    print(f"old parser ({args.base}): {old_ms:.3f} ms a page")
    print(f"new parser (worktree):  {new_ms:.3f} ms a page")
    print(f"ratio new/old: {new_ms / old_ms:.2f} (target <= {TARGET})")
    print(f"pages where the two disagree: {differ}")


if __name__ == "__main__":
    main()
