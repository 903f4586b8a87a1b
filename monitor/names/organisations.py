"""Organizations: the vendor a name leads with, and a comparison key for a given organization."""

from __future__ import annotations

import re
from collections.abc import Sequence

from monitor.names.normalise import _normalize

# --------------------------------------------------------------------------
# Organizations
# --------------------------------------------------------------------------

# Vendor -> aliases (normalised words).  Detected from the first word(s) of a
# name when its organization is not given.  Kept small on purpose: vendors
# whose names lead their certificate titles.
_VENDORS: dict[str, tuple[str, ...]] = {
    "Google": ("google", "google cloud"),
    "IBM": ("ibm", "international business machines"),
    "Meta": ("meta", "facebook", "meta platforms"),
    "Microsoft": ("microsoft",),
    "Salesforce": ("salesforce",),
    "AWS": ("aws", "amazon", "amazon web services"),
    "Intuit": ("intuit",),
    "Adobe": ("adobe",),
    "SAS": ("sas",),
    "DeepLearning.AI": ("deeplearning.ai", "deeplearning ai", "deeplearningai"),
    "Oracle": ("oracle",),
    "Cisco": ("cisco",),
    "SAP": ("sap",),
    "Atlassian": ("atlassian",),
    "Autodesk": ("autodesk",),
    "HubSpot": ("hubspot",),
    "MongoDB": ("mongodb",),
    "Databricks": ("databricks",),
    "NVIDIA": ("nvidia",),
    "VMware": ("vmware",),
    "Splunk": ("splunk",),
    "Palo Alto Networks": ("palo alto networks",),
    "Fortinet": ("fortinet",),
    "Linux Foundation": ("linux foundation", "the linux foundation"),
}
_VENDOR_BY_ALIAS: dict[tuple[str, ...], str] = {
    tuple(alias.split()): vendor.casefold() for vendor, aliases in _VENDORS.items() for alias in aliases
}
_VENDOR_DISPLAY = {vendor.casefold(): vendor for vendor in _VENDORS}
_MAX_ALIAS_WORDS = max(len(k) for k in _VENDOR_BY_ALIAS)
_ALIAS_FIRST_WORDS = frozenset(k[0] for k in _VENDOR_BY_ALIAS)
_LEGAL_SUFFIXES = frozenset(
    "inc inc. llc ltd ltd. limited corp corp. corporation co co. company gmbh plc ag sa".split()
)


# A trailing "(AWT)", "(IBM)", "(AWS)": one word in parentheses, letters/digits/&/-.
_ABBREVIATION = re.compile(r"\([\w&.-]+\)")


def _bare(word: str) -> str:
    """A word without edge punctuation or a possessive: ``Google's`` -> ``google``."""
    bare = _BARE.get(word)
    if bare is None:
        bare = word.strip(',:;!?"()[]')
        if bare.endswith("'s"):
            bare = bare[:-2]
        if len(_BARE) < _CACHE_LIMIT:
            _BARE[word] = bare
    return bare


def _vendor_from_words(words: Sequence[str]) -> str | None:
    if not words:
        return None
    maybe = _MAY_START_ALIAS.get(words[0])
    if maybe is None:
        maybe = _bare(words[0]) in _ALIAS_FIRST_WORDS
        if len(_MAY_START_ALIAS) < _CACHE_LIMIT:
            _MAY_START_ALIAS[words[0]] = maybe
    if not maybe:
        return None
    head = [_bare(w) for w in words[:_MAX_ALIAS_WORDS]]
    for n in range(len(head), 0, -1):
        vendor = _VENDOR_BY_ALIAS.get(tuple(head[:n]))
        if vendor:
            return vendor
    return None


def vendor_of(name: str) -> str | None:
    """The vendor named by the first word(s) of ``name`` (a key like ``google``), or None."""
    return _vendor_from_words(_normalize(name)[0].split())


_ORG_CACHE: dict[str, str | None] = {}
_BARE: dict[str, str] = {}
_LABELS: dict[str, str | None] = {}
_MAY_START_ALIAS: dict[str, bool] = {}  # first word -> could it start a vendor alias?
_CACHE_LIMIT = 200_000  # entries per memo dict; names share a small vocabulary


def canonical_org(org: str | None) -> str | None:
    """A comparison key for an organization: vendor key, else normalised words minus legal suffixes.

    ``"Google LLC"``, ``"Google Cloud"`` -> ``google``; ``"IBM Corporation"``
    -> ``ibm``; ``"University of Michigan"`` -> ``university of michigan``.
    """
    if org is None:
        return None
    cached = _ORG_CACHE.get(org)
    if cached is not None or org in _ORG_CACHE:
        return cached
    words = _org_words(org)
    key = (_vendor_from_words(words) or " ".join(words)) if words else None
    if len(_ORG_CACHE) < _CACHE_LIMIT:
        _ORG_CACHE[org] = key
    return key


def _org_words(org: str) -> list[str]:
    """The words that name an organization, without what the two sites add or leave out.

    ACE lists "Advancing Women in Tech (AWT)" where Coursera's partner is
    "Advancing Women in Tech", and "The Linux Foundation" beside "Linux
    Foundation": a trailing parenthesised abbreviation, a leading "the" and
    legal suffixes ("Inc.", ", LLC") do not make another organization.
    """
    words = [w.strip(",.") for w in _normalize(org)[0].split()]
    words = [w for w in words if w]
    while len(words) > 1 and (words[-1] in _LEGAL_SUFFIXES or _ABBREVIATION.fullmatch(words[-1])):
        words.pop()
    if len(words) > 1 and words[0] == "the":
        words.pop(0)
    return words


def _org_label(org: str) -> str | None:
    """An organization as given, with its whitespace tidied (for people, not comparison)."""
    label = _LABELS.get(org)
    if label is None:
        label = " ".join(org.split()) or None
        if len(_LABELS) < _CACHE_LIMIT:
            _LABELS[org] = label
    return label


def _org_display(key: str | None) -> str | None:
    return _VENDOR_DISPLAY.get(key, key) if key else None
