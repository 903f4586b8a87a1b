"""The fast shortlist (`CoreSearch`) gives exactly the full scan's shortlist (`top_scores`), the reference.

`CoreSearch` scores only the content-word keys whose character-count bound can reach the k best;
the scan scores every key. The two must agree position for position, ties included (ties are
common: generated names share a small vocabulary), on any keys and any query, and so must
`best_candidates` over an index kept by a long-lived process (the web app) and a one-shot one.
"""

from __future__ import annotations

import random
import subprocess
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.names import Candidate, CandidateIndex, best_candidates, prepare_name
from monitor.names.search import CoreSearch, core_search, top_scores
from tests.test_check_fast import bench_module
from tests.test_names import HAZARD_CHARS, VOCABULARY

WORDS = [w.lower() for w in VOCABULARY] + ["a", "b", "ab", "ba", "aaa", "zz", "é", "ß", "日本", "x-y"]


def random_core(rng: random.Random) -> str:
    return " ".join(sorted(rng.choice(WORDS) for _ in range(rng.randint(1, 7))))


def variant(rng: random.Random, text: str) -> str:
    """A query near a key: a letter doubled, dropped or swapped for another, a word added, or unchanged."""
    at = rng.randrange(len(text))
    kind = rng.randrange(5)
    if kind == 0:
        return text[:at] + text[at] + text[at:]
    if kind == 1 and len(text) > 1:
        return text[:at] + text[at + 1 :]
    if kind == 2:
        return text[:at] + rng.choice("aeiouxz é") + text[at + 1 :]
    if kind == 3:
        return f"{text} {rng.choice(WORDS)}"
    return text


def test_fast_shortlist_equals_the_full_scan_on_generated_keys():
    """2,000 queries over pools of 1 to 3,000 keys with many duplicate and tied keys, for several k."""
    rng = random.Random("core-search")
    for size in (1, 7, 20, 21, 300, 3000):
        cores = [random_core(rng) for _ in range(size)]
        search = CoreSearch(cores)
        for _ in range(2000 // 6):
            query = variant(rng, rng.choice(cores)) if rng.random() < 0.8 else random_core(rng)
            for k in (1, 5, 20):
                assert search.top(query, k) == top_scores(query, cores, k), (size, query, k)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.text(alphabet=st.sampled_from("ab c" + HAZARD_CHARS[:6]), min_size=1, max_size=12), min_size=2),
    st.text(alphabet=st.sampled_from("ab c" + HAZARD_CHARS[:6]), min_size=1, max_size=12),
    st.integers(min_value=1, max_value=25),
)
def test_fast_shortlist_equals_the_full_scan_on_any_text(cores, query, k):
    """Arbitrary short texts over a tiny alphabet: the most ties, and characters no key holds."""
    assert CoreSearch(cores).top(query, k) == top_scores(query, cores, k)


def test_fast_shortlist_prunes_on_a_realistic_catalog():
    """The point of it: on 3,000 generated ACE names a query scores a fraction of the keys (and the same ones)."""
    bench = bench_module()
    rng = random.Random("core-search-catalog")
    exhibits = bench.make_exhibits(rng, 3000, bench.make_orgs(rng, 40))
    cores = [prepare_name(e.name, e.org).core for e in exhibits]
    search = CoreSearch(cores)
    kept = []
    for e in rng.sample(exhibits, 200):
        query = prepare_name(variant(rng, e.name)).core
        assert search.top(query, 20) == top_scores(query, cores, 20)
        kept.append(int((search.bounds(query) >= top_scores_kth(query, cores, 20)).sum()))
    assert sorted(kept)[len(kept) // 2] < len(cores) // 2, sorted(kept)


def top_scores_kth(query: str, cores: list[str], k: int) -> float:
    from rapidfuzz import fuzz

    return fuzz.ratio(query, cores[top_scores(query, cores, k)[-1]], processor=None)


def test_a_kept_index_answers_like_a_one_shot_index():
    """best_candidates through the kept index (fast search, pools kept) equals the one-shot scan, with organizations."""
    bench = bench_module()
    rng = random.Random("kept-index")
    orgs = bench.make_orgs(rng, 50)
    exhibits = bench.make_exhibits(rng, 2500, orgs[:40])
    exhibits = [Candidate(e.key, e.name, None if i % 9 == 0 else e.org) for i, e in enumerate(exhibits)]
    titles = bench.make_titles(rng, exhibits, orgs[:40], orgs[40:], 300)
    one_shot, kept = CandidateIndex(exhibits), CandidateIndex(exhibits, keep=True)
    for title in titles:
        for org in (None, title.program.org, "An Organization With No Exhibits"):
            expected = [s.to_dict() for s in best_candidates(title.program.name, one_shot, limit=8, query_org=org)]
            assert [s.to_dict() for s in best_candidates(title.program.name, kept, limit=8, query_org=org)] == expected
    assert any(kept.searches.values()) and not one_shot.searches  # the kept index did search fast
    assert core_search(kept, None) is core_search(kept, None)  # built once


def test_a_kept_index_builds_the_search_only_when_a_pool_is_asked_again():
    """One check through a kept index (the CLI through the API) scans: building the search costs more."""
    kept = CandidateIndex([Candidate(str(i), f"Google Data Analytics {i}") for i in range(50)], keep=True)
    assert core_search(kept, None) is None
    assert isinstance(core_search(kept, None), CoreSearch)


def test_the_one_shot_path_never_imports_numpy():
    """`acewatch check` scans: building a CoreSearch (numpy) would cost it more than it saves."""
    code = (
        "import sys; from monitor.names import CandidateIndex, Candidate, best_candidates; "
        "best_candidates('Data Analytics', CandidateIndex([Candidate('1', 'Google Data Analytics')])); "
        "print('numpy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
