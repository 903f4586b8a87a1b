"""Benchmark catalog-wide name matching against a naive per-pair loop.

Run:  /work/venv/bin/python bench/match.py [--sizes 1k,10k,40k,100k] [--seed 7]
      /work/venv/bin/python bench/match.py --check-startup   (only `acewatch check` start-up)

For each ACE catalog size it generates (seeded) a realistic catalog of ACE
exhibit names across a few hundred organizations and 5,000 Coursera titles:
about half have an ACE counterpart (exact, typographic variants, credential
suffix, version, &/and, colon, one word changed; some with the organization
spelled differently) and half have none.  Then, in the same run, it measures

* ``match_catalog`` wall time and top-1 accuracy,
* the naive loop: thefuzz ``process.extractOne`` (default scorer) per title,
  timed on a sample and extrapolated to all titles,
* the speed-up ratio, and the count of wrong ``exact``/``equivalent``
  verdicts (must be 0).

Timings are medians of this run only: compare ratios, not absolute times
across runs (see /work/shared/baselines.md).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from monitor.matching import match_catalog  # noqa: E402
from monitor.names import Candidate, normalize  # noqa: E402

N_TITLES = 5_000
NAIVE_SAMPLE = 50

# --------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------

VENDORS = [
    "Google",
    "IBM",
    "Meta",
    "Microsoft",
    "Salesforce",
    "AWS",
    "Intuit",
    "Adobe",
    "SAS",
    "DeepLearning.AI",
    "Oracle",
    "Cisco",
    "SAP",
    "Atlassian",
    "Autodesk",
    "HubSpot",
    "MongoDB",
    "Databricks",
    "NVIDIA",
    "VMware",
    "Splunk",
    "Fortinet",
]
VENDOR_VARIANTS = {
    "Google": "Google LLC",
    "IBM": "IBM Corporation",
    "Meta": "Meta Platforms, Inc.",
    "Microsoft": "Microsoft Corporation",
    "AWS": "Amazon Web Services",
}
PLACES = [
    "Michigan",
    "Illinois",
    "Colorado",
    "Arizona",
    "Virginia",
    "Pennsylvania",
    "Toronto",
    "London",
    "California",
    "Minnesota",
    "Maryland",
    "Washington",
    "Georgia",
    "Texas",
    "Florida",
    "Ohio",
    "Kentucky",
    "Iowa",
    "Utah",
    "Oregon",
    "Boston",
    "Chicago",
    "Denver",
    "Houston",
    "Geneva",
    "Melbourne",
    "Sydney",
    "Delhi",
    "Tokyo",
    "Seoul",
    "Madrid",
    "Milan",
    "Leiden",
    "Edinburgh",
    "Manchester",
    "Copenhagen",
    "Hong Kong",
    "Singapore",
    "Duke",
    "Rice",
]
WORDS = [
    "Summit",
    "Pinnacle",
    "Bright",
    "Apex",
    "Keystone",
    "Northstar",
    "Riverbend",
    "Cedar",
    "Harbor",
    "Beacon",
    "Vertex",
    "Crescent",
    "Atlas",
    "Lumen",
    "Meridian",
    "Orbit",
]
SUBJECTS = [
    "Data Analytics",
    "Data Science",
    "Data Engineering",
    "Data Visualization",
    "Data Analysis",
    "Project Management",
    "Program Management",
    "Agile Project Management",
    "Cybersecurity",
    "Cloud Computing",
    "Cloud Security",
    "Network Security",
    "IT Support",
    "IT Automation",
    "UX Design",
    "UI Design",
    "Graphic Design",
    "Digital Marketing & E-commerce",
    "Social Media Marketing",
    "Marketing Analytics",
    "Business Analytics",
    "Business Intelligence",
    "Financial Accounting",
    "Managerial Accounting",
    "Corporate Finance",
    "Financial Modeling",
    "Supply Chain Management",
    "Operations Management",
    "Human Resource Management",
    "Machine Learning",
    "Deep Learning",
    "Artificial Intelligence",
    "Generative AI",
    "Natural Language Processing",
    "Computer Vision",
    "Python Programming",
    "Java Programming",
    "Web Development",
    "Front-End Development",
    "Back-End Development",
    "Full-Stack Development",
    "Mobile App Development",
    "iOS Development",
    "Android Development",
    "Database Administration",
    "SQL for Data Science",
    "Software Testing",
    "DevOps",
    "Site Reliability Engineering",
    "Blockchain Fundamentals",
    "Healthcare Informatics",
    "Public Health",
    "Epidemiology",
    "Psychology",
    "Sociology",
    "Microeconomics",
    "Macroeconomics",
    "Statistics",
    "Calculus",
    "Linear Algebra",
    "Business Writing",
    "Public Speaking",
    "Negotiation",
    "Leadership",
    "Entrepreneurship",
    "Sales Operations",
    "Customer Success",
    "Bookkeeping",
    "Tax Preparation",
    "Technical Writing",
    "Instructional Design",
    "Game Design",
    "3D Modeling",
    "Embedded Systems",
    "Quantum Computing",
    "Robotics",
    "Sustainability",
    "Climate Science",
]
PREFIXES = [
    "Introduction to",
    "Foundations of",
    "Fundamentals of",
    "Principles of",
    "Advanced",
    "Applied",
    "Essentials of",
    "Topics in",
    "Strategic",
    "Modern",
]
AUDIENCES = [
    "Everyone",
    "Business",
    "Beginners",
    "Managers",
    "Healthcare",
    "Engineers",
    "Non-Profits",
    "Educators",
    "Small Business",
    "Executives",
    "Developers",
    "Finance",
]
SUBTOPICS = [
    "Tools and Techniques",
    "Concepts and Practice",
    "A Practical Approach",
    "Theory and Practice",
    "Methods and Applications",
    "Getting Started",
    "Case Studies",
    "The Basics",
    "Strategy and Execution",
    "From Zero to Hero",
    "Core Skills",
    "Hands-On Projects",
]
TOOLS = [
    "Python",
    "R",
    "Excel",
    "SQL",
    "Tableau",
    "Power BI",
    "Java",
    "JavaScript",
    "React",
    "TensorFlow",
    "PyTorch",
    "Kubernetes",
    "Docker",
    "Spark",
    "Linux",
    "Git",
]
ROLES = [
    "Analyst",
    "Developer",
    "Engineer",
    "Specialist",
    "Associate",
    "Administrator",
    "Architect",
    "Technician",
    "Professional",
    "Practitioner",
    "Manager",
    "Designer",
]
LEVELS = ["I", "II", "III", "Part 1", "Part 2", "Level 1", "Level 2"]
CREDENTIALS = ["", "", "", " Professional Certificate", " Specialization", " Certificate"]
ONE_WORD_SWAPS = {
    "Developer": "Development",
    "Development": "Developer",
    "Analytics": "Analysis",
    "Analysis": "Analytics",
    "Analyst": "Analytics",
    "Introduction": "Intro",
    "Fundamentals": "Foundations",
    "Foundations": "Fundamentals",
    "Management": "Manager",
    "Manager": "Management",
    "Engineering": "Engineer",
    "Engineer": "Engineering",
    "Design": "Designer",
    "Designer": "Design",
    "Marketing": "Marketer",
    "Science": "Sciences",
    "Programming": "Coding",
    "Security": "Safety",
    "Advanced": "Intermediate",
    "Applied": "Practical",
    "Essentials": "Basics",
    "Business": "Enterprise",
}


def make_orgs(rng: random.Random, n: int) -> list[str]:
    """Vendors plus universities and companies: ``n`` distinct organization names."""
    orgs = list(VENDORS)
    makers = [
        lambda: f"University of {rng.choice(PLACES)}",
        lambda: f"{rng.choice(PLACES)} State University",
        lambda: f"{rng.choice(PLACES)} Institute of Technology",
        lambda: f"{rng.choice(WORDS)} Academy",
        lambda: f"{rng.choice(WORDS)} {rng.choice(WORDS)} Learning",
        lambda: f"{rng.choice(WORDS)} College of {rng.choice(PLACES)}",
        lambda: f"{rng.choice(PLACES)} School of Business",
    ]
    seen = set(orgs)
    while len(orgs) < n:
        org = rng.choice(makers)()
        if org not in seen:
            seen.add(org)
            orgs.append(org)
    return orgs


def make_name(rng: random.Random, org: str) -> str:
    """One plausible exhibit/program name for ``org``."""
    subject = rng.choice(SUBJECTS)
    cred = rng.choice(CREDENTIALS)
    if org in VENDORS:
        shape = rng.random()
        if shape < 0.35:
            return f"{org} {subject}{cred}"
        if shape < 0.6:
            return f"{org} {subject.split()[0]} {rng.choice(ROLES)}{cred}"
        if shape < 0.8:
            return f"{org} {subject} with {rng.choice(TOOLS)}{cred}"
        return f"{org} {rng.choice(PREFIXES)} {subject}{cred}"
    shape = rng.random()
    if shape < 0.25:
        return f"{rng.choice(PREFIXES)} {subject}{cred}"
    if shape < 0.4:
        return f"{subject} for {rng.choice(AUDIENCES)}{cred}"
    if shape < 0.55:
        return f"{subject}: {rng.choice(SUBTOPICS)}"
    if shape < 0.7:
        return f"{subject} {rng.choice(LEVELS)}"
    if shape < 0.85:
        return f"{subject} with {rng.choice(TOOLS)}{cred}"
    return f"{rng.choice(PREFIXES)} {subject} for {rng.choice(AUDIENCES)}"


def make_exhibits(rng: random.Random, size: int, orgs: list[str]) -> list[Candidate]:
    """``size`` exhibits, unique per (organization, normalised name); Zipf-ish organization sizes."""
    weights = [3.0 if o in VENDORS else 1.0 / (1 + i % 50) ** 0.5 for i, o in enumerate(orgs)]
    seen: set[tuple[str, str]] = set()
    out: list[Candidate] = []
    while len(out) < size:
        for org in rng.choices(orgs, weights, k=size - len(out)):
            name = make_name(rng, org)
            k = (org, normalize(name).text)
            if k not in seen:
                seen.add(k)
                out.append(Candidate(f"ACE-{len(out):06d}", name, org))
    return out


# --------------------------------------------------------------------------
# Titles with ground truth
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Title:
    program: Candidate
    truth: str | None  # exhibit key, None when no counterpart exists
    expected: str  # expected verdict ("none" means: anything but exact/equivalent)
    hazard: str


def _typographic(rng: random.Random, name: str) -> str:
    words = name.split(" ")
    choice = rng.choice(["case", "double", "nbsp", "mark", "dash", "quote"])
    if choice == "dash" and "-" in name:
        return name.replace("-", "\u2013", 1)
    if choice == "quote" and "'" in name:
        return name.replace("'", "\u2019")
    if choice == "mark":
        return " ".join([words[0] + "\u00ae"] + words[1:])
    if choice == "nbsp" and len(words) > 1:
        return words[0] + "\u00a0" + " ".join(words[1:])
    if choice == "double" and len(words) > 1:
        return words[0] + "  " + " ".join(words[1:])
    return name.upper() if rng.random() < 0.5 else name.lower()


def _word_hazard(rng: random.Random, name: str, hazard: str) -> str | None:
    if hazard == "suffix":
        return None if name.endswith(("Certificate", "Specialization")) else name + " Professional Certificate"
    if hazard == "version":
        return name + " (v.2)"
    if hazard == "and":
        if " & " in name:
            return name.replace(" & ", " and ")
        return name.replace(" and ", " & ") if " and " in name else None
    if hazard == "colon":
        if ":" in name:
            return name.replace(":", "", 1)
        words = name.split(" ")
        return " ".join([words[0], words[1] + ":"] + words[2:]) if len(words) > 2 else None
    if hazard == "word":
        words = name.split(" ")
        spots = [i for i, w in enumerate(words) if w in ONE_WORD_SWAPS]
        if not spots:
            return None
        i = rng.choice(spots)
        words[i] = ONE_WORD_SWAPS[words[i]]
        return " ".join(words)
    raise ValueError(hazard)


HAZARDS = [
    ("exact", 0.30),
    ("typographic", 0.15),
    ("suffix", 0.15),
    ("version", 0.10),
    ("and", 0.08),
    ("colon", 0.07),
    ("word", 0.15),
]


def make_titles(
    rng: random.Random, exhibits: list[Candidate], orgs: list[str], extra_orgs: list[str], n: int
) -> list[Title]:
    """``n`` Coursera titles: half derived from exhibits (with hazards), half with no counterpart."""
    at_org: dict[tuple[str, str], Candidate] = {(e.org, normalize(e.name).text): e for e in exhibits}
    titles: list[Title] = []
    names, weights = zip(*HAZARDS)
    while len(titles) < n // 2:
        src = rng.choice(exhibits)
        hazard = rng.choices(names, weights)[0]
        if hazard == "exact":
            text, expected = src.name, "exact"
        elif hazard == "typographic":
            text, expected = _typographic(rng, src.name), "equivalent"
        else:
            text, expected = _word_hazard(rng, src.name, hazard), "near"
            if text is None:
                continue
        truth = src
        same = at_org.get((src.org, normalize(text).text))
        if same is not None:  # the variant is itself an exhibit of this organization
            truth, expected = same, "exact" if same.name == text else "equivalent"
        org = VENDOR_VARIANTS.get(src.org, src.org) if rng.random() < 0.1 else src.org
        titles.append(Title(Candidate(f"C-{len(titles):05d}", text, org), truth.key, expected, hazard))
    while len(titles) < n:
        org = rng.choice(orgs) if rng.random() < 0.7 else rng.choice(extra_orgs)
        text = make_name(rng, org)
        if (org, normalize(text).text) in at_org:
            continue
        titles.append(Title(Candidate(f"C-{len(titles):05d}", text, org), None, "none", "no counterpart"))
    rng.shuffle(titles)
    return titles


# --------------------------------------------------------------------------
# Measurements
# --------------------------------------------------------------------------


def measure_catalog(titles: list[Title], exhibits: list[Candidate], repeats: int) -> tuple[float, list]:
    programs = [t.program for t in titles]
    times, matches = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        matches = match_catalog(programs, exhibits, workers=2)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), matches


def score_matches(titles: list[Title], matches) -> dict:
    with_truth = [(t, m) for t, m in zip(titles, matches) if t.truth is not None]
    without = [(t, m) for t, m in zip(titles, matches) if t.truth is None]
    top1 = sum(m.exhibit is not None and m.exhibit.key == t.truth for t, m in with_truth)
    verdict_ok = sum(
        m.exhibit is not None and m.exhibit.key == t.truth and m.verdict == t.expected for t, m in with_truth
    )
    wrong_exact = sum(
        m.verdict in ("exact", "equivalent") and (m.exhibit is None or m.exhibit.key != t.truth)
        for t, m in zip(titles, matches)
    )
    missed_exact = sum(t.expected == "exact" and m.verdict != "exact" for t, m in with_truth)
    none_as_none = sum(m.verdict == "none" for _, m in without)
    return {
        "top1": top1 / len(with_truth),
        "verdict_ok": verdict_ok / len(with_truth),
        "wrong_exact": wrong_exact,
        "missed_exact": missed_exact,
        "none_share": none_as_none / max(1, len(without)),
        "with_truth": with_truth,
    }


def measure_naive(rng: random.Random, titles: list[Title], exhibits: list[Candidate]) -> tuple[float, float]:
    """thefuzz extractOne per title on a sample; seconds extrapolated to all titles, sample top-1."""
    from thefuzz import process as tf_process

    names = [e.name for e in exhibits]
    name_of = {e.key: e.name for e in exhibits}
    sample = rng.sample([t for t in titles if t.truth is not None], NAIVE_SAMPLE)
    t0 = time.perf_counter()
    picks = [tf_process.extractOne(t.program.name, names) for t in sample]
    elapsed = time.perf_counter() - t0
    correct = sum(p is not None and p[0] == name_of[t.truth] for t, p in zip(sample, picks))
    return elapsed / len(sample) * len(titles), correct / len(sample)


def parse_sizes(text: str) -> list[int]:
    out = []
    for part in text.split(","):
        part = part.strip().lower()
        out.append(int(float(part[:-1]) * 1000) if part.endswith("k") else int(part))
    return out


def bench_check_startup(size: int = 40_000, repeats: int = 15, seed: int = 7) -> bool:
    """``acewatch check`` start-up: a fresh process on a 40k-exhibit store, target < 0.3 s median.

    Implemented in bench/check_startup.py (store generation, timing table,
    import check); ``--check-startup`` runs only this part.
    """
    from check_startup import bench_check_startup as run

    return run(size, repeats, seed)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1k,10k,40k,100k", help="ACE catalog sizes, e.g. 1k,10k,40k")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--titles", type=int, default=N_TITLES)
    ap.add_argument("--no-naive", action="store_true", help="skip the naive loop")
    ap.add_argument(
        "--check-startup",
        action="store_true",
        help="only time `acewatch check` start-up (bench/check_startup.py: 40k exhibits)",
    )
    args = ap.parse_args(argv)
    if args.check_startup:
        raise SystemExit(0 if bench_check_startup(seed=args.seed) else 1)

    rows = []
    for size in parse_sizes(args.sizes):
        rng = random.Random(f"{args.seed}-{size}")
        n_orgs = max(40, min(400, size // 100))
        orgs = make_orgs(rng, n_orgs + 60)
        ace_orgs, extra_orgs = orgs[:n_orgs], orgs[n_orgs:]
        exhibits = make_exhibits(rng, size, ace_orgs)
        titles = make_titles(rng, exhibits, ace_orgs, extra_orgs, args.titles)
        secs, matches = measure_catalog(titles, exhibits, repeats=3 if size <= 40_000 else 2)
        q = score_matches(titles, matches)
        naive_secs, naive_top1 = (None, None) if args.no_naive else measure_naive(rng, titles, exhibits)
        rows.append((size, n_orgs, secs, q, naive_secs, naive_top1))
        print(f"... {size:,} exhibits done ({secs:.2f} s)", file=sys.stderr, flush=True)
        if size == max(parse_sizes(args.sizes)):
            by_hazard: dict[str, list[int]] = {}
            for t, m in q["with_truth"]:
                ok = m.exhibit is not None and m.exhibit.key == t.truth and m.verdict == t.expected
                by_hazard.setdefault(t.hazard, []).append(ok)
            detail = ", ".join(f"{h} {sum(v) / len(v):.3f}" for h, v in sorted(by_hazard.items()))

    print(f"\n## Catalog matching: {args.titles:,} Coursera titles x ACE exhibits (seed {args.seed}, 2 workers)\n")
    print(
        "| ACE exhibits | orgs | match_catalog | top-1 | top-1 + verdict | wrong exact/equiv | "
        "missed exact | no-counterpart -> none | naive thefuzz (extrap.) | naive top-1 | speed-up |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for size, n_orgs, secs, q, naive_secs, naive_top1 in rows:
        naive = f"{naive_secs:,.0f} s (n={NAIVE_SAMPLE})" if naive_secs else "-"
        ntop = f"{naive_top1:.2f}" if naive_top1 is not None else "-"
        speed = f"{naive_secs / secs:,.0f}x" if naive_secs else "-"
        print(
            f"| {size:,} | {n_orgs} | {secs:.2f} s | {q['top1']:.3f} | {q['verdict_ok']:.3f} | "
            f"{q['wrong_exact']} | {q['missed_exact']} | {q['none_share']:.2f} | {naive} | {ntop} | {speed} |"
        )
    print(f"\ntop-1 + verdict by hazard (largest size): {detail}")
    print(
        "\ncolumns: top-1 = the intended exhibit ranked first, over titles WITH a counterpart; "
        "top-1 + verdict = also the expected verdict;\n"
        "wrong exact/equiv = exact/equivalent with any other exhibit (must be 0); "
        "missed exact = an exact title not reported exact (must be 0);\n"
        "no-counterpart -> none = share of titles without counterpart whose best is 'none' (the rest are 'near');\n"
        f"naive = thefuzz process.extractOne (default WRatio + processor) per title on {NAIVE_SAMPLE} sampled "
        "titles, extrapolated to all; its top-1 counts the same text at any organization as correct;\n"
        "match_catalog = median of repeated runs in this process, numpy import excluded after the first run."
    )
    bench_check_startup()


if __name__ == "__main__":
    main()
