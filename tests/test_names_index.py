"""The stored name index is versioned by a declared constant, pinned here to what it stores.

`NAME_INDEX_VERSION` replaces a hash of the code (any edit used to invalidate every stored
index). A constant can be forgotten, so this test pins the prepared form of a corpus of
hazard names (every field the index stores) to the version: a change to normalisation,
content words or organization keys that does not bump the version fails here.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata

import pytest

from monitor.names import NAME_KEY_FIELDS, name_key_fields, name_key_version, prepare_name
from monitor.names.index import NAME_INDEX_VERSION
from tests.test_names import HAZARDS, VOCABULARY

#: NAME_INDEX_VERSION -> sha256 of the prepared corpus (ASCII names, and all names under the
#: Unicode database the digest was taken with: NFKC and casefold follow Python's version of it).
PINNED = {
    "2": {  # organizations: a trailing "(AWT)" and a leading "The" are not part of the key
        "ascii": "60f4a52e0708fa72a225c335413e0838a09e0dcc7cc191a1e579ebf47d3d56a4",
        "all": "6c6cde9142655487d3ef7f805647eacf5dfcdccc614aa0ee244046201574c47e",
        "unicode": "14.0.0",
    },
    "1": {
        "ascii": "cec872c5f957ad40181fb74b513a3a81a7ec9a1535f886852f499cdcd6a64221",
        "all": "d5bdeecefcb80bd99405e2c81b4d49059e1eaaf5a367094d0d8c6b063583775d",
        "unicode": "14.0.0",
    },
}
ORGS = (
    None,
    "Google LLC",
    "IBM Corporation",
    "University of Michigan",
    "Meta Platforms, Inc.",
    "Advancing Women in Tech (AWT)",
    "The Linux Foundation",
)


def corpus() -> list[tuple[str, str | None]]:
    names = {h.query for h in HAZARDS} | {h.ace_name for h in HAZARDS} | set(VOCABULARY)
    names |= {" ".join(VOCABULARY[i : i + 4]) for i in range(0, len(VOCABULARY), 3)}
    return [(name, org) for name in sorted(names) for org in ORGS]


def digest(pairs: list[tuple[str, str | None]]) -> str:
    lines = []
    for name, org in pairs:
        try:
            fields = name_key_fields(prepare_name(name, org))
        except ValueError:
            fields = None  # empty after normalisation: never stored, and that is part of the contract
        lines.append(json.dumps([name, org, fields], ensure_ascii=True, sort_keys=True))
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def test_the_stored_fields_of_prepared_names_are_pinned_to_the_index_version():
    pinned = PINNED.get(NAME_INDEX_VERSION)
    assert pinned, f"NAME_INDEX_VERSION {NAME_INDEX_VERSION!r} has no pinned digest: add one here"
    pairs = corpus()
    ascii_only = [(name, org) for name, org in pairs if name.isascii()]
    assert digest(ascii_only) == pinned["ascii"], (
        "prepared names changed: bump NAME_INDEX_VERSION (monitor/names/index.py) and pin the new digests"
    )
    if unicodedata.unidata_version != pinned["unicode"]:
        pytest.skip(f"Unicode {unicodedata.unidata_version}, digest taken under {pinned['unicode']}")
    assert digest(pairs) == pinned["all"], (
        "prepared names changed: bump NAME_INDEX_VERSION (monitor/names/index.py) and pin the new digests"
    )


def test_the_version_is_declared_not_a_hash_of_the_code():
    """An edit to a names module that changes nothing prepared keeps every stored index valid."""
    assert name_key_version() == f"names-{NAME_INDEX_VERSION}/unicode-{unicodedata.unidata_version}"
    assert len(name_key_version()) <= 64  # name_index.key_version is a VARCHAR(64)


def test_the_corpus_exercises_every_stored_field():
    prepared = [prepare_name(name, org) for name, org in corpus() if name.strip("® ")]
    assert {"unicode", "case", "whitespace", "quotes", "dashes", "marks"} <= {r for p in prepared for r in p.applied}
    assert any(p.vendor for p in prepared) and any(p.org != p.vendor for p in prepared)
    assert set(name_key_fields(prepared[0])) == set(NAME_KEY_FIELDS) - {"cid", "organization"}
