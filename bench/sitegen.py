"""Seeded generator of realistic synthetic sites for the benchmarks (1k, 10k, 100k records).

`generate(size, seed)` returns a `SyntheticSite`: ACE organizations and exhibits, Coursera
partners and programs, as the plain dicts `fixtures.site` renders (so pages carry the
fixture markup), plus renderers that pad pages to realistic weights:

* ACE exhibit pages: the fixture exhibit (two markup styles) plus the SharePoint weight a
  real page carries (a large `__EVENTVALIDATION`, inline resource scripts): about 80 KB;
* Coursera program pages: the fixture program page plus a reviews block and the
  `__APOLLO_STATE__` of every course: about 300 KB of markup and inline scripts;
* organization pages and catalog API pages as the fixtures render them.

Names come from `bench/match.py`'s vocabulary (organizations, exhibit names, Coursera titles
with the matching hazards: exact, typographic variants, credential suffix, version, one word
changed; half with no ACE counterpart). `size` is the number of ACE exhibits and also of
Coursera programs, so each source's snapshot has `size` records.

Everything is derived from `(size, seed)` with `random.Random` and SHA-256 (never `hash()`),
so the same arguments give byte-identical pages in any process, on any run: figures compare
across commits. Padding bytes come from small seeded pools (shared between pages: a parser
pays for the bytes and the tree, not for their uniqueness), which keeps the server's memory
small at 100k.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import sys
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import match as names  # noqa: E402
from fixtures import site  # noqa: E402
from fixtures.dataset import NORMAL, PROFESSIONAL  # noqa: E402
from fixtures.ids import coursera_id, dynamics_guid  # noqa: E402

GENERATOR_VERSION = 1
ACE_PAGE_BYTES = 80_000
PROGRAM_PAGE_BYTES = 300_000
POOL = 32  # padding variants per kind

LEVELS = [site.LD, site.LD, site.LD, site.UD, site.UD, site.GR, site.VC]
SUBJECTS = [
    "computer science",
    "information technology",
    "data analytics",
    "statistics",
    "project management",
    "business administration",
    "marketing",
    "accounting",
    "cybersecurity",
    "computer networking",
    "software development",
    "database management",
    "user experience design",
    "finance",
    "operations management",
    "human resource management",
    "introduction to programming",
    "web development",
    "machine learning",
    "cloud computing",
    "technical writing",
    "psychology",
]
STATES = ["CA", "NY", "TX", "WA", "IL", "MA", "GA", "CO", "VA", "OR", "MI", "PA"]
CITIES = [
    "Springfield",
    "Riverside",
    "Franklin",
    "Greenville",
    "Bristol",
    "Clinton",
    "Fairview",
    "Salem",
    "Madison",
    "Georgetown",
    "Arlington",
    "Ashland",
]
OUTCOME_VERBS = [
    "Explain",
    "Apply",
    "Analyze",
    "Design",
    "Evaluate",
    "Implement",
    "Describe",
    "Compare",
    "Configure",
    "Interpret",
    "Build",
    "Assess",
]
OUTCOME_OBJECTS = [
    "the core concepts of the field",
    "common tools and workflows",
    "data to support decisions",
    "a project plan with milestones",
    "security controls in a small organization",
    "the results of a statistical test",
    "a prototype for a real user need",
    "professional communication with stakeholders",
    "ethical issues in practice",
    "a portfolio project from start to finish",
]
SKILLS = [
    "Python Programming",
    "SQL",
    "Data Analysis",
    "Statistics",
    "Leadership",
    "Communication",
    "Problem Solving",
    "Microsoft Excel",
    "Tableau",
    "Cloud Computing",
    "Project Management",
    "Research Methods",
    "Critical Thinking",
    "Machine Learning",
    "Data Visualization",
    "Strategy",
]
FIRST = ["Maria", "James", "Priya", "Chen", "Fatima", "Luis", "Anna", "Kwame", "Sofia", "David", "Aiko", "Omar"]
LAST = ["Garcia", "Okafor", "Nguyen", "Schmidt", "Rossi", "Patel", "Kim", "Johnson", "Silva", "Kowalski"]
CLAIM_STYLES = ["faq", "faq", "faq", "body", "credit_heading"]


def parse_size(text: str) -> int:
    text = text.strip().lower()
    return int(float(text[:-1]) * 1000) if text.endswith("k") else int(text)


def size_label(size: int) -> str:
    return f"{size // 1000}k" if size % 1000 == 0 else str(size)


def slugify(text: str) -> str:
    ascii_text = text.encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "program"


def _digest_int(key: str) -> int:
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big")


def _us_date(year: int, month: int, day: int) -> str:
    return f"{month}/{day}/{year}"


# --------------------------------------------------------------------------- the catalog


@dataclass
class SyntheticSite:
    size: int
    seed: int
    organizations: list[dict]
    exhibits: list[dict]
    partners: list[dict]
    programs: list[dict]  # sorted by id, as the API lists them
    truth: dict[str, str | None] = field(default_factory=dict)  # program id -> exhibit cid

    @cached_property
    def org_by_oid(self) -> dict[str, dict]:
        return {o["oid"]: o for o in self.organizations}

    @cached_property
    def exhibits_by_oid(self) -> dict[str, list[dict]]:
        grouped: dict[str, list[dict]] = {}
        for exhibit in sorted(self.exhibits, key=lambda e: (e["title"].lower(), e["ace_id"])):
            grouped.setdefault(exhibit["oid"], []).append(exhibit)
        return grouped

    @cached_property
    def exhibit_by_cid(self) -> dict[str, dict]:
        return {e["cid"]: e for e in self.exhibits}

    @cached_property
    def program_by_slug(self) -> dict[str, dict]:
        return {p["slug"]: p for p in self.programs}

    @cached_property
    def partner_by_id(self) -> dict[str, dict]:
        return {p["id"]: p for p in self.partners}

    @cached_property
    def api_records(self) -> list[dict]:
        from fixtures.api import specialization_record

        return [specialization_record(p) for p in self.programs]

    def partners_of(self, program: dict) -> list[dict]:
        return [self.partner_by_id[p] for p in program["partnerIds"] if p in self.partner_by_id]

    # ------------------------------------------------------------------ records as the spiders yield them

    def ace_items(self, base_url: str = "http://127.0.0.1") -> list[dict]:
        """The records a perfect ACE crawl yields (`AceExhibitItem` as a dict), for the store benchmarks."""
        out = []
        for e in self.exhibits:
            org = self.org_by_oid[e["oid"]]
            table = site.exhibit_style(e) == "table"
            periods = [
                {
                    "start": _iso(p["start"]),
                    "end": _iso(p["end"]),
                    "credits": [
                        {
                            "level": c["level"],
                            "hours": float(c["hours"]),
                            "subject": site.title_case_subject(c["subject"]) if table else c["subject"],
                        }
                        for c in p["credits"]
                    ],
                }
                for p in (e["periods"] if table else e["periods"][::-1])
            ]
            out.append(
                {
                    "cid": e["cid"],
                    "url": base_url + site.ace_exhibit_path(e, org),
                    "ace_id": e["ace_id"],
                    "organization": org["name"],
                    "title": e["title"],
                    "periods": periods,
                    "parse_status": "ok",
                    "problem": None,
                }
            )
        return out

    def coursera_items(self, site_url: str = "http://127.0.0.1") -> list[dict]:
        """The records a perfect Coursera crawl yields (`CourseraProgramItem` as a dict)."""
        out = []
        for p in self.programs:
            claim = p.get("ace_claim")
            partner = ", ".join(x["name"] for x in self.partners_of(p))
            out.append(
                {
                    "program_id": p["id"],
                    "slug": p["slug"],
                    "url": site_url + site.program_path(p),
                    "variant": p["productVariant"],
                    "api_name": p["name"],
                    "title": p["page_title"],
                    "partner": partner,
                    "ace_claim": "yes" if claim else "no",
                    "ace_credits": claim["credits"] if claim else None,
                    "claim_text": (
                        f"This program is ACE recommended for up to {claim['credits']} college credits"
                        if claim
                        else None
                    ),
                    "parse_status": "ok",
                    "problem": None,
                }
            )
        return out


def _iso(us: str | None) -> str | None:
    if not us:
        return None
    month, day, year = (int(x) for x in us.split("/"))
    return f"{year:04d}-{month:02d}-{day:02d}"


def _org_record(rng: random.Random, name: str, index: int) -> dict:
    letters = "".join(ch for ch in name.upper() if ch.isalpha())
    words = [w for w in re.split(r"[^A-Za-z]+", name) if w]
    prefix = (letters[:4] if len(words) == 1 else "".join(w[0] for w in words).upper()[:4]) or "ORG"
    prefix = f"{prefix}{index}"[:10]
    return {
        "oid": dynamics_guid(f"bench-oid:{index}:{name}"),
        "name": name,
        "ace_prefix": prefix,
        "address": {
            "lines": [f"{rng.randint(1, 9999)} {rng.choice(CITIES)} Avenue"],
            "city": rng.choice(CITIES),
            "state": rng.choice(STATES),
            "postal_code": f"{rng.randint(10000, 99999)}",
            "country": "United States",
        },
        "phone": f"({rng.randint(200, 989)}) {rng.randint(200, 989)}-{rng.randint(1000, 9999)}",
        "website": f"https://www.{slugify(name)}.example/",
        "about": f"{name} offers courses and certificates evaluated by ACE Learning Evaluations for college credit.",
        "link_encoding": "plus" if index % 3 else "percent",
    }


def _periods(rng: random.Random) -> list[dict]:
    periods = []
    year = rng.randint(2015, 2021)
    for _n in range(rng.choice([1, 1, 2, 2, 3])):
        start_month = rng.randint(1, 12)
        length = 3 if rng.random() < 0.5 else rng.choice([3, 5, 10])
        end_year = year + length
        credits = []
        for level in dict.fromkeys(rng.sample(LEVELS, rng.randint(1, 3))):
            for subject in rng.sample(SUBJECTS, rng.randint(1, 2)):
                credits.append({"level": level, "hours": rng.choice([1, 2, 3, 3, 3, 4, 6]), "subject": subject})
        periods.append(
            {
                "start": _us_date(year, start_month, 1),
                "end": _us_date(end_year, start_month - 1 or 12, 28 if start_month != 1 else 31),
                "credits": credits,
            }
        )
        year = end_year + (1 if start_month == 1 else 0)
    return periods


def _exhibit_record(rng: random.Random, name: str, org: dict, number: int) -> dict:
    ace_id = f"{org['ace_prefix']}-{number:04d}"
    return {
        "cid": dynamics_guid(f"bench-cid:{ace_id}"),
        "ace_id": ace_id,
        "oid": org["oid"],
        "title": name,
        "description": f"This course covers {name.lower()}. Learners complete readings, graded exercises and a "
        f"final project that applies {rng.choice(SUBJECTS)} to realistic problems.",
        "length": f"{rng.randint(20, 200)} hours (self-paced)",
        "location": "Online",
        "learning_outcomes": [
            f"{rng.choice(OUTCOME_VERBS)} {rng.choice(OUTCOME_OBJECTS)}" for _ in range(rng.randint(3, 6))
        ],
        "instruction": "Self-paced online instruction: video lectures, readings, labs and discussion forums.",
        "assessment": "Graded quizzes and a final project; learners must score 70% or higher.",
        "periods": _periods(rng),
    }


def _program_record(rng: random.Random, title: names.Title, partner_id: str, used: set[str]) -> dict:
    name = title.program.name
    base = slugify(name)
    slug, n = base, 2
    while slug in used:
        slug, n = f"{base}-{n}", n + 1
    used.add(slug)
    professional = name.endswith("Professional Certificate") or title.program.org in names.VENDORS
    claim = None
    if title.truth is not None and rng.random() < 0.85:
        claim = {"style": rng.choice(CLAIM_STYLES), "credits": rng.randint(3, 15)}
    courses = [
        {
            "id": coursera_id(f"bench-course:{slug}:{i}"),
            "slug": f"{slug}-course-{i + 1}",
            "name": f"{name.split(':')[0]} {i + 1}",
            "hours": rng.randint(6, 40),
        }
        for i in range(rng.randint(3, 6))
    ]
    return {
        "id": coursera_id("bench-s12n:" + slug),
        "slug": slug,
        "name": name,
        "page_title": name,
        "productVariant": PROFESSIONAL if professional else NORMAL,
        "partnerIds": [partner_id],
        "tagline": f"Build job-ready skills: {name.split(':')[0].lower()}.",
        "description": f"Learn {name.lower()} through hands-on projects and graded assignments.",
        "level": rng.choice(["Beginner", "Intermediate", "Advanced", "Mixed"]),
        "months": rng.randint(1, 8),
        "hours_per_week": rng.choice([2, 3, 4, 5, 6, 8, 10]),
        "rating": round(rng.uniform(4.2, 4.9), 1),
        "reviews": rng.randint(40, 60000),
        "enrolled": rng.randint(2000, 900000),
        "skills": rng.sample(SKILLS, rng.randint(3, 6)),
        "instructors": [f"{rng.choice(FIRST)} {rng.choice(LAST)}" for _ in range(rng.randint(1, 3))],
        "courses": courses,
        "ace_claim": claim,
    }


def generate(size: int, seed: int = 7) -> SyntheticSite:
    """The synthetic site of `size` ACE exhibits and `size` Coursera programs (deterministic)."""
    rng = random.Random(f"{seed}-{size}")
    n_orgs = max(40, min(400, size // 100))
    org_names = names.make_orgs(rng, n_orgs + 60)
    ace_names, extra_names = org_names[:n_orgs], org_names[n_orgs:]
    candidates = names.make_exhibits(rng, size, ace_names)
    titles = names.make_titles(rng, candidates, ace_names, extra_names, size)

    detail = random.Random(f"{seed}-{size}-detail")
    organizations = [_org_record(detail, name, i) for i, name in enumerate(ace_names)]
    org_by_name = {o["name"]: o for o in organizations}
    numbers: dict[str, int] = {}
    exhibits, cid_of = [], {}
    for candidate in candidates:
        org = org_by_name[candidate.org]
        numbers[org["oid"]] = numbers.get(org["oid"], 0) + 1
        record = _exhibit_record(detail, candidate.name, org, numbers[org["oid"]])
        exhibits.append(record)
        cid_of[candidate.key] = record["cid"]

    partner_names = sorted({t.program.org for t in titles})
    partners = [{"id": str(1000 + i), "name": n, "shortName": slugify(n)[:24]} for i, n in enumerate(partner_names)]
    partner_id = {p["name"]: p["id"] for p in partners}
    used: set[str] = set()
    programs, truth = [], {}
    for title in sorted(titles, key=lambda t: t.program.key):
        program = _program_record(detail, title, partner_id[title.program.org], used)
        programs.append(program)
        truth[program["id"]] = cid_of.get(title.truth) if title.truth else None
    programs.sort(key=lambda p: p["id"])
    # Only organizations with exhibits are configured for a crawl (as a real config lists them).
    organizations = [o for o in organizations if numbers.get(o["oid"])]
    return SyntheticSite(size, seed, organizations, exhibits, partners, programs, truth)


# --------------------------------------------------------------------------- page weight


def _noise(key: str, size: int) -> str:
    return site.blob(key, size)


class Padding:
    """Seeded pools of the bytes real pages carry besides the fixture markup."""

    def __init__(self, seed: int):
        self.seed = seed
        words = (
            "learners course program certificate skills project week module video reading quiz "
            "career data analysis design team review instructor practice"
        ).split()
        rng = random.Random(f"padding-{seed}")
        # ACE: SharePoint resource strings (constant) and __EVENTVALIDATION (per page, pooled).
        strings = ",".join(f'"L_{i:04d}_Text":"{" ".join(rng.choices(words, k=6))}"' for i in range(620))
        self.ace_head = (
            f'<script type="text/javascript">//<![CDATA[\nvar Strings={{STS:{{{strings}}}}};\n'
            f'var g_spPreFetchKeys="{_noise(f"{seed}prefetch", 6000)}";\n//]]></script>\n'
        )
        self.ace_validation = [
            f'<input type="hidden" name="__EVENTVALIDATION" id="__EVENTVALIDATION" '
            f'value="/wEdA{_noise(f"{seed}ev{i}", 13_000)}" />\n'
            for i in range(POOL)
        ]
        # Coursera: a reviews block (visible markup) and the Apollo cache of the courses (inline script).
        self.reviews = []
        self.apollo = []
        for i in range(POOL):
            r = random.Random(f"reviews-{seed}-{i}")
            cards = "".join(
                f'<div class="css-r{k % 7}x review-card"><div class="css-rh{k % 5}"><span>{r.choice(FIRST)} '
                f"{r.choice(LAST)[0]}.</span><span>{r.randint(3, 5)} stars</span></div>"
                f'<p class="css-rt{k % 3}">{" ".join(r.choices(words, k=r.randint(18, 40)))}.</p>'
                f'<div class="css-rf"><button type="button">Helpful</button><span>Reviewed on {r.randint(1, 28)} '
                f"{r.choice(['Jan', 'Mar', 'May', 'Aug', 'Oct', 'Dec'])} 2025</span></div></div>"
                for k in range(110)
            )
            self.reviews.append(
                f'<section class="css-reviews" id="reviews"><h2 class="cds-119">Learner reviews</h2>{cards}</section>'
            )
            state = {
                f"Course:{_noise(f'{seed}c{i}{k}', 22)}": {
                    "__typename": "Course",
                    "name": " ".join(r.choices(words, k=5)),
                    "description": " ".join(r.choices(words, k=120)),
                    "syllabus": [
                        {"module": m, "items": [" ".join(r.choices(words, k=6)) for _ in range(8)]} for m in range(6)
                    ],
                    "token": _noise(f"{seed}t{i}{k}", 400),
                }
                for k in range(54)
            }
            self.apollo.append(
                f"<script>window.__APOLLO_STATE__=Object.assign(window.__APOLLO_STATE__||{{}},"
                f"{site.script_json(state)});</script>\n"
            )

    def ace_exhibit(self, page: str, key: str) -> str:
        i = _digest_int(key) % POOL
        page = page.replace("</head>", self.ace_head + "</head>", 1)
        return page.replace('<div class="aspNetHidden">\n', '<div class="aspNetHidden">\n' + self.ace_validation[i], 1)

    def program(self, page: str, key: str) -> str:
        i = _digest_int(key) % POOL
        page = page.replace('<section id="faq"', self.reviews[i] + '<section id="faq"', 1)
        return page.replace("</body>", self.apollo[i] + "</body>", 1)


def render_exhibit(s: SyntheticSite, padding: Padding, exhibit: dict) -> str:
    org = s.org_by_oid[exhibit["oid"]]
    return padding.ace_exhibit(site.render_ace_exhibit(exhibit, org), exhibit["cid"])


def render_program(s: SyntheticSite, padding: Padding, program: dict) -> str:
    return padding.program(site.render_coursera_program(program, s.partners_of(program)), program["id"])


def render_organization(s: SyntheticSite, org: dict) -> str:
    return site.render_ace_organization(org, s.exhibits_by_oid.get(org["oid"], []))


def api_page(s: SyntheticSite, start: int, limit: int, fields: list[str]) -> bytes:
    from fixtures.api import SPECIALIZATION_DEFAULTS, SPECIALIZATION_FIELDS, paginate, project

    page, paging = paginate(s.api_records, start, limit)
    payload = {
        "elements": [project(r, SPECIALIZATION_DEFAULTS, SPECIALIZATION_FIELDS, fields) for r in page],
        "paging": paging,
        "linked": {},
    }
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


if __name__ == "__main__":  # quick look: sizes and page weights
    import time

    for label in sys.argv[1:] or ["1k"]:
        t0 = time.perf_counter()
        generated = generate(parse_size(label))
        pad = Padding(generated.seed)
        took = time.perf_counter() - t0
        ex, pr = generated.exhibits[0], generated.programs[0]
        print(
            f"{label}: {len(generated.organizations)} orgs, {len(generated.exhibits)} exhibits, "
            f"{len(generated.programs)} programs, {len(generated.partners)} partners in {took:.1f} s; "
            f"exhibit {len(render_exhibit(generated, pad, ex).encode()):,} B, "
            f"program {len(render_program(generated, pad, pr).encode()):,} B, "
            f"org {len(render_organization(generated, generated.organizations[0]).encode()):,} B"
        )
