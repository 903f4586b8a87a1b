"""monitor.names: a table of real-world name hazards, plus properties.

Each table row reads: query title, ACE name, expected verdict, expected
differences (as a person reads them), and for ``equivalent`` the rules that
made the names equal.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from monitor.names import (
    NEAR_MIN_SCORE,
    RULES,
    Candidate,
    CandidateIndex,
    Normalized,
    best_candidates,
    canonical_org,
    compare,
    normalize,
    tokenize,
    vendor_of,
    word_differences,
)


@dataclass(frozen=True)
class Hazard:
    id: str
    query: str
    ace_name: str
    verdict: str
    differences: tuple[str, ...] = ()
    normalisations: tuple[str, ...] = ()
    other_organization: bool = False
    query_org: str | None = None
    ace_org: str | None = None


HAZARDS = [
    Hazard("identical", "Google Data Analytics", "Google Data Analytics", "exact"),
    Hazard("case only", "google data analytics", "Google Data Analytics", "equivalent", normalisations=("case",)),
    Hazard(
        "double spaces",
        "Google  Data   Analytics",
        "Google Data Analytics",
        "equivalent",
        normalisations=("whitespace",),
    ),
    Hazard(
        "leading/trailing space",
        " Google Data Analytics ",
        "Google Data Analytics",
        "equivalent",
        normalisations=("whitespace",),
    ),
    Hazard("NBSP", "Google\u00a0Data Analytics", "Google Data Analytics", "equivalent", normalisations=("whitespace",)),
    Hazard(
        "zero-width space",
        "Google Data\u200b Analytics",
        "Google Data Analytics",
        "equivalent",
        normalisations=("whitespace",),
    ),
    Hazard(
        "curly apostrophe",
        "Google\u2019s Foundations of Project Management",
        "Google's Foundations of Project Management",
        "equivalent",
        normalisations=("quotes",),
    ),
    Hazard(
        "en dash in Front-End",
        "Meta Front\u2013End Developer",
        "Meta Front-End Developer",
        "equivalent",
        normalisations=("dashes",),
    ),
    Hazard(
        "non-breaking hyphen",
        "Meta Front\u2011End Developer",
        "Meta Front-End Developer",
        "equivalent",
        normalisations=("dashes",),
    ),
    Hazard(
        "em dash separator",
        "Python for Everybody \u2014 Capstone",
        "Python for Everybody - Capstone",
        "equivalent",
        normalisations=("dashes",),
    ),
    Hazard(
        "fullwidth letter",
        "\uff27oogle Data Analytics",
        "Google Data Analytics",
        "equivalent",
        normalisations=("unicode",),
    ),
    Hazard(
        "registered mark",
        "Google Data Analytics\u00ae",
        "Google Data Analytics",
        "equivalent",
        normalisations=("marks",),
    ),
    Hazard(
        "ACE registered mark mid-name",
        "ACE\u00ae Recommended Data Science",
        "ACE Recommended Data Science",
        "equivalent",
        normalisations=("marks",),
    ),
    Hazard(
        "trademark (NFKC would make it TM)",
        "Microsoft Excel\u2122 Skills",
        "Microsoft Excel Skills",
        "equivalent",
        normalisations=("marks",),
    ),
    Hazard(
        "glued (R) is a mark",
        "Microsoft Excel(R) Skills",
        "Microsoft Excel Skills",
        "equivalent",
        normalisations=("marks",),
    ),
    Hazard("spaced (R) is the R language", "Data Analysis (R)", "Data Analysis", "near", ("- (R)",)),
    Hazard(
        "several typographic rules",
        " google  DATA analytics\u00ae",
        "Google Data Analytics",
        "equivalent",
        normalisations=("case", "whitespace", "marks"),
    ),
    Hazard(
        "Professional Certificate suffix",
        "Google Data Analytics",
        "Google Data Analytics Professional Certificate",
        "near",
        ("+ Professional Certificate",),
    ),
    Hazard(
        "suffix on the query side",
        "Google Cybersecurity Professional Certificate",
        "Google Cybersecurity",
        "near",
        ("- Professional Certificate",),
    ),
    Hazard("version", "IBM Data Science (v.2)", "IBM Data Science", "near", ("- (v.2)",)),
    Hazard(
        "& vs and",
        "Google Digital Marketing & E-commerce",
        "Google Digital Marketing and E-commerce",
        "near",
        ("& -> and",),
    ),
    Hazard(
        "colon",
        "Google Project Management: Professional Certificate",
        "Google Project Management Professional Certificate",
        "near",
        ("Management: -> Management",),
    ),
    Hazard(
        "Developer vs Development",
        "Meta Front-End Developer",
        "Meta Front-End Development",
        "near",
        ("Developer -> Development",),
    ),
    Hazard(
        "Front-End vs Front End",
        "Meta Front-End Developer",
        "Meta Front End Developer",
        "near",
        ("Front-End -> Front End",),
    ),
    Hazard(
        "word order swapped",
        "Google Analytics Data",
        "Google Data Analytics",
        "near",
        ("Analytics Data -> Data Analytics",),
    ),
    Hazard(
        "typographic AND a word change: report original words",
        "META Front\u2013End Developer",
        "Meta Front-End Development",
        "near",
        ("Developer -> Development",),
    ),
    Hazard("two-word name, one word changed", "Data Science", "Data Engineering", "near", ("Science -> Engineering",)),
    Hazard(
        "other vendor look-alike",
        "IBM Data Analyst",
        "Google Data Analytics",
        "none",
        ("IBM -> Google", "Analyst -> Analytics"),
        other_organization=True,
    ),
    Hazard(
        "other vendor, same words",
        "Google Data Analytics",
        "IBM Data Analytics",
        "near",
        ("Google -> IBM",),
        other_organization=True,
    ),
    Hazard(
        "same text, organizations differ",
        "Data Analytics",
        "Data Analytics",
        "near",
        ("organization: Google -> IBM",),
        other_organization=True,
        query_org="Google",
        ace_org="IBM",
    ),
    Hazard(
        "organization spelled differently",
        "Data Analytics",
        "Data Analytics",
        "exact",
        query_org="Google",
        ace_org="Google LLC",
    ),
    Hazard(
        "completely unrelated",
        "Underwater Basket Weaving",
        "Google Data Analytics",
        "none",
        ("Underwater Basket Weaving -> Google Data Analytics",),
    ),
]


@pytest.mark.parametrize("h", HAZARDS, ids=[h.id for h in HAZARDS])
def test_name_hazards(h: Hazard) -> None:
    c = compare(h.query, h.ace_name, query_org=h.query_org, ace_org=h.ace_org)
    assert c.verdict == h.verdict
    assert [str(d) for d in c.differences] == list(h.differences)
    assert c.normalisations == h.normalisations
    assert c.other_organization == h.other_organization


def test_hazard_table_is_big_enough() -> None:
    assert len(HAZARDS) >= 20


# --------------------------------------------------------------------------
# Empty input, shapes, tokenize, normalize, organizations
# --------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["", "   ", "\u00a0\u200b", "\u00ae"])
def test_empty_query_is_a_clear_error(query: str) -> None:
    with pytest.raises(ValueError, match="query is empty"):
        compare(query, "Google Data Analytics")
    with pytest.raises(ValueError, match="query is empty"):
        best_candidates(query, [Candidate("1", "Google Data Analytics")])


def test_empty_ace_name_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="ace_name is empty"):
        compare("Google Data Analytics", " ")


def test_non_string_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        compare(None, "Google Data Analytics")  # type: ignore[arg-type]


def test_to_dict_shape_is_stable_and_json_able() -> None:
    d = compare("Meta Front-End Developer", "Meta Front-End Development").to_dict()
    assert list(d) == [
        "query",
        "ace_name",
        "verdict",
        "score",
        "differences",
        "normalisations",
        "other_organization",
        "word_edits",
        "query_org",
        "ace_org",
    ]
    assert d["differences"] == [
        {"kind": "replace", "old": "Developer", "new": "Development", "text": "Developer -> Development"}
    ]
    assert d["verdict"] == "near" and d["query_org"] == "Meta" and d["ace_org"] == "Meta"
    json.dumps(d)


def test_score_is_100_only_for_equal_normalised_text() -> None:
    assert compare("Google Data Analytics", "google data analytics").score == 100
    assert compare("Google Analytics Data", "Google Data Analytics").score < 100
    assert compare("Underwater Basket Weaving", "Google Data Analytics").score < NEAR_MIN_SCORE


def test_tokenize_keeps_punctuation_on_its_word() -> None:
    assert tokenize("Google Project Management: Professional Certificate") == [
        "Google",
        "Project",
        "Management:",
        "Professional",
        "Certificate",
    ]
    assert tokenize("IBM Data Science (v.2)") == ["IBM", "Data", "Science", "(v.2)"]
    assert tokenize("Digital Marketing & E-commerce") == ["Digital", "Marketing", "&", "E-commerce"]
    assert tokenize("Google\u00a0Data  Analytics ") == ["Google", "Data", "Analytics"]


def test_normalize_names_each_rule_it_applies() -> None:
    n = normalize("  \u201cMeta\u201d Front\u2013End\u00a0Developer\u00ae ")
    assert n == Normalized('"meta" front-end developer', ("case", "whitespace", "quotes", "dashes", "marks"))
    assert set(n.applied) <= set(RULES)
    assert normalize("plain").applied == ()


@pytest.mark.parametrize(
    "text",
    [
        "Digital Marketing & E-commerce",
        "Digital Marketing and E-commerce",
        "Project Management: Professional Certificate",
        "IBM Data Science (v.2)",
        "Data Analysis (R)",
        "Programming in C (C)",
    ],
)
def test_normalize_leaves_meaning_alone(text: str) -> None:
    assert normalize(text).text == text.casefold()


def test_word_differences_groups_inserted_words() -> None:
    diffs = word_differences("Google IT Support", "Google IT Support Professional Certificate")
    assert [(d.kind, d.old, d.new) for d in diffs] == [("insert", "", "Professional Certificate")]


def test_vendor_and_org_keys() -> None:
    assert vendor_of("Google's Data Analytics") == "google"
    assert vendor_of("Amazon Web Services Cloud Practitioner") == "aws"
    assert vendor_of("Introduction to Psychology") is None
    assert canonical_org("IBM Corporation") == canonical_org("IBM") == "ibm"
    assert canonical_org("Meta Platforms, Inc.") == "meta"
    assert canonical_org("University of Michigan") == "university of michigan"
    # ACE's "Advancing Women in Tech (AWT)" is Coursera's partner "Advancing Women in Tech"
    assert canonical_org("Advancing Women in Tech (AWT)") == canonical_org("Advancing Women in Tech")
    assert canonical_org("The Linux Foundation") == canonical_org("Linux Foundation") == "linux foundation"
    assert canonical_org("University of California, Irvine (UCI)") == "university of california irvine"
    assert canonical_org("SOPHIA Learning, LLC") == "sophia learning"
    assert canonical_org("Duke University") != canonical_org("Duke University Health")


# --------------------------------------------------------------------------
# best_candidates
# --------------------------------------------------------------------------

CATALOG = [
    Candidate("c1", "Google Data Analytics", "Google"),
    Candidate("c2", "Google Data Analytics Professional Certificate", "Google"),
    Candidate("c3", "Data Analytics", "IBM"),
    Candidate("c4", "IBM Data Analyst", "IBM"),
    Candidate("c5", "Meta Front-End Developer", "Meta"),
    Candidate("c6", "Meta Back-End Developer", "Meta"),
    Candidate("c7", "Introduction to Psychology", "Yale University"),
    Candidate("c8", "   ", "Nobody"),  # empty names are skipped, not fatal
]


def test_best_candidates_exact_first_then_near() -> None:
    top = best_candidates("Google Data Analytics", CATALOG, limit=3)
    assert [(s.candidate.key, s.verdict) for s in top[:2]] == [("c1", "exact"), ("c2", "near")]
    assert [str(d) for d in top[1].comparison.differences] == ["+ Professional Certificate"]


def test_best_candidates_org_beats_same_text_of_another_org() -> None:
    top = best_candidates("Data Analytics", CandidateIndex(CATALOG), query_org="Google")
    assert top[0].candidate.key == "c1" and top[0].verdict == "near"
    ibm = next(s for s in top if s.candidate.key == "c3")
    assert ibm.verdict == "near" and ibm.comparison.other_organization
    assert all(s.verdict not in ("exact", "equivalent") for s in top)


def test_best_candidates_typographic_query_and_limit() -> None:
    index = CandidateIndex(CATALOG)
    assert len(index) == 7
    top = best_candidates("meta front\u2013end developer", index, limit=2)
    assert len(top) == 2
    assert (top[0].candidate.key, top[0].verdict) == ("c5", "equivalent")
    assert top[0].comparison.normalisations == ("case", "dashes")
    assert top[1].candidate.key == "c6"
    d = top[0].to_dict()
    assert d["key"] == "c5" and d["org"] == "Meta" and d["verdict"] == "equivalent"


def test_names_module_imports_only_stdlib_and_rapidfuzz() -> None:
    """Every module of the names package (it sits on `check`'s start-up path), and the catalog matcher."""
    code = (
        "import sys, pkgutil, importlib, monitor.names, monitor.matching; "
        "[importlib.import_module(m.name) for m in pkgutil.iter_modules(monitor.names.__path__, 'monitor.names.')]; "
        "bad = [m for m in ('numpy', 'scrapy', 'sqlalchemy', 'sqlmodel', 'bs4', 'lxml') if m in sys.modules]; "
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


# --------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------

VOCABULARY = [
    "Google",
    "IBM",
    "Meta",
    "Data",
    "Analytics",
    "Analyst",
    "Science",
    "Project",
    "Management",
    "Professional",
    "Certificate",
    "Front-End",
    "Back-End",
    "Developer",
    "Development",
    "Cybersecurity",
    "IT",
    "Support",
    "Automation",
    "with",
    "Python",
    "for",
    "Everybody",
    "Introduction",
    "to",
    "Machine",
    "Learning",
    "Cloud",
    "Engineering",
    "UX",
    "Design",
    "Digital",
    "Marketing",
    "&",
    "E-commerce",
    "Business",
    "Intelligence",
    "Applied",
    "Foundations:",
    "(v.2)",
    "SQL",
    "Excel",
    "AI",
    "Generative",
    "Full",
    "Stack",
    "Software",
    "Engineer",
    "Database",
    "Specialization",
    "Advanced",
    "Statistics",
]
HAZARD_CHARS = (
    "\u00a0\u200b\u2013\u2014\u2011\u2212\u2018\u2019\u201c\u201d\u00ae\u2122\u00a9\u2120"
    "\uff27\ufb01\u0130\u00df\u1e9e\u01c5\u00a8\u0301\u2002\u3000\ufe58\ufe32 (R)"
)

names_ = st.lists(st.sampled_from(VOCABULARY), min_size=2, max_size=10).map(" ".join)
messy_text = st.text(
    alphabet=st.one_of(st.characters(codec="utf-8"), st.sampled_from(HAZARD_CHARS), st.sampled_from("aAbZ -:&.")),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(messy_text)
@example("\u1fd2")  # casefold decomposes it, NFKC recomposes it: found by hypothesis in CI-like runs
def test_normalize_is_idempotent(text: str) -> None:
    once = normalize(text).text
    assert normalize(once).text == once
    assert normalize(once).applied == ()


@settings(max_examples=200, deadline=None)
@given(st.one_of(names_, messy_text))
def test_identity_is_exact(text: str) -> None:
    assume(normalize(text).text)
    c = compare(text, text)
    assert c.verdict == "exact" and c.differences == () and c.score == 100


@st.composite
def typographic_variant(draw):
    """A realistic name and a copy changed only typographically."""
    words = draw(st.lists(st.sampled_from(VOCABULARY), min_size=2, max_size=8))
    out = []
    for w in words:
        w = draw(
            st.sampled_from([w, w.upper(), w.lower(), w + "\u00ae", w.replace("-", "\u2013"), w.replace("-", "\u2011")])
        )
        out.append(w)
    seps = draw(st.lists(st.sampled_from([" ", "  ", "\u00a0", " \u200b"]), min_size=len(out), max_size=len(out)))
    variant = "".join(s + w for s, w in zip(seps, out))
    return " ".join(words), variant


@settings(max_examples=200, deadline=None)
@given(typographic_variant())
def test_equivalent_is_symmetric(pair: tuple[str, str]) -> None:
    a, b = pair
    ab, ba = compare(a, b), compare(b, a)
    assert ab.verdict == ba.verdict
    assert ab.verdict in ("exact", "equivalent")
    assert ab.normalisations == ba.normalisations
    assert ab.differences == ba.differences == ()


@settings(max_examples=200, deadline=None)
@given(messy_text, messy_text)
def test_differences_exist_exactly_when_texts_are_not_equivalent(a: str, b: str) -> None:
    assume(normalize(a).text and normalize(b).text)
    equal = normalize(a).text == normalize(b).text
    assert (compare(a, b).verdict in ("exact", "equivalent")) == equal
    assert (word_differences(a, b) == []) == equal


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(VOCABULARY), min_size=2, max_size=10), st.data())
def test_replacing_one_word_is_always_near_with_that_difference(words: list[str], data) -> None:
    i = data.draw(st.integers(0, len(words) - 1))
    new = data.draw(st.sampled_from(VOCABULARY))
    assume(normalize(new).text != normalize(words[i]).text)
    ace_name = " ".join(words)
    changed = words.copy()
    changed[i] = new
    c = compare(" ".join(changed), ace_name)
    assert c.verdict == "near"
    assert [str(d) for d in c.differences] == [f"{new} -> {words[i]}"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=9), st.data())
def test_inserting_one_word_is_near_with_plus_word(words: list[str], data) -> None:
    i = data.draw(st.integers(0, len(words)))
    new = data.draw(st.sampled_from(VOCABULARY))
    query = " ".join(words)
    ace_name = " ".join(words[:i] + [new] + words[i:])
    c = compare(query, ace_name)
    assert c.verdict == "near"
    assert [str(d) for d in c.differences] == [f"+ {new}"]


def test_normalize_is_idempotent_for_every_code_point() -> None:
    """Every single character reaches its fixed point in one call (the rules never undo each other)."""
    for code_point in range(0x110000):
        if 0xD800 <= code_point <= 0xDFFF:
            continue
        once = normalize(chr(code_point)).text
        again = normalize(once)
        assert (again.text, again.applied) == (once, ()), f"U+{code_point:04X}"
