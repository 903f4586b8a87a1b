"""Compare a certificate title with an ACE exhibit name, word for word.

An ACE credit recommendation belongs to one EXACT name: "Meta Front-End
Developer" is not "Meta Front-End Development".  This module tells a person
how two names relate and, when they differ, which words differ.  Everything
here is deterministic and imports only the stdlib and rapidfuzz, because it
sits on the start-up path of ``acewatch check``.

Verdict ladder (best first; ``compare`` returns exactly one):

``exact``
    The two texts are identical, character for character.
``equivalent``
    Identical after typographic normalisation (``normalize``); the
    comparison lists the rules that made them equal (``normalisations``).
    Never decided by a score.
``near``
    Different words, close enough to show a person.  ``differences`` lists
    them (``Developer -> Development``, ``+ Professional Certificate``).
``none``
    Not close enough to be worth showing.

Organization gate: a candidate of another organization (``other_organization``)
can never be ``exact`` or ``equivalent`` for the query, even with the same
text; it is reported as ``near`` with the vendor word difference (or an
``organization`` difference when the words are the same).  A name's
organization is the one given (canonicalised: ``Google LLC`` = ``Google``),
else the vendor its first word(s) name (a small table: Google, IBM, Meta,
Microsoft, AWS/Amazon, ...).  Two names are of other organizations when
those differ, or when both names lead with different vendors.  Unknown
organizations never count as different.

Thresholds (constants of ``monitor.names.compare``):

``NEAR_MIN_WORD_EDITS`` = 1 and ``NEAR_MAX_EDIT_FRACTION`` = 0.4
    ``near`` when the names share at least one word and the word-level edit
    distance is at most ``max(1, round(0.4 * n))``, n = the longer name's
    word count.  So a single changed or inserted word in a multi-word name is
    ALWAYS ``near``, whatever the length; 4-5 word names allow 2 edits
    (e.g. ``+ Professional Certificate``), 8-10 word names allow 3-4.
Same content words
    ...or when the names have the same content words, i.e. differ only in
    credential words (``Professional Certificate``, ``Specialization``),
    versions, punctuation, ``&``/``and`` or hyphenation: "Google Project
    Management: Professional Certificate" vs "Google Project Management"
    (3 word edits) is ``near``.
``NEAR_MIN_SCORE`` = 91
    ...or when ``score`` >= 91.  ``score`` is rapidfuzz ``WRatio`` on the
    normalised texts; WRatio caps a pure substring match at 90, so this
    path admits only whole-name closeness: typos inside a word, word order
    swapped (95), ``Front-End`` vs ``Front End``.
Everything else is ``none``.

``score`` (0-100) is WRatio on the normalised texts, 100 only when they
are equal.  A score alone never decides anything: candidates are ordered by
``rank_key`` = (verdict, same organization, fewer content-word edits, higher
score, fewer word edits).  Content words are the words minus credential
words and versions, with ``&`` read as ``and`` and hyphens split; they
matter more than characters because a credential suffix is the most common
difference between a Coursera title and its ACE name.

Modules, one job each (imports point down the list): ``normalise`` (the
typographic rules), ``words`` (word-by-word differences), ``organisations``
(vendors and organization keys), ``compare`` (prepared names, the verdict
ladder, ranking), ``index`` (the name index, in memory or stored), ``search``
(the nearest names of one query).  This package re-exports their public
names, so ``from monitor.names import compare`` is the way in.
"""

from monitor.names.compare import (
    NEAR_MAX_EDIT_FRACTION,
    NEAR_MIN_SCORE,
    NEAR_MIN_WORD_EDITS,
    VERDICTS,
    Assessment,
    Comparison,
    PreparedName,
    assess,
    compare,
    compare_prepared,
    prepare_name,
    rank_key,
)
from monitor.names.index import (
    NAME_KEY_FIELDS,
    Candidate,
    CandidateIndex,
    NameIndex,
    NameRows,
    ResidentNameIndex,
    StoredNameIndex,
    StoredNames,
    TitleLookup,
    name_key_fields,
    name_key_rows,
    name_key_version,
    prepared_from_key,
)
from monitor.names.normalise import RULES, Normalized, normalize
from monitor.names.organisations import canonical_org, vendor_of
from monitor.names.search import SHORTLIST_SIZE, Scored, best_candidates
from monitor.names.words import Difference, tokenize, word_differences

__all__ = [
    "RULES",
    "NEAR_MIN_WORD_EDITS",
    "NEAR_MAX_EDIT_FRACTION",
    "NEAR_MIN_SCORE",
    "SHORTLIST_SIZE",
    "VERDICTS",
    "Normalized",
    "Difference",
    "Comparison",
    "Candidate",
    "Scored",
    "PreparedName",
    "CandidateIndex",
    "NameIndex",
    "NameRows",
    "StoredNames",
    "ResidentNameIndex",
    "StoredNameIndex",
    "TitleLookup",
    "normalize",
    "tokenize",
    "word_differences",
    "compare",
    "best_candidates",
    "vendor_of",
    "canonical_org",
    "prepare_name",
    "compare_prepared",
    "Assessment",
    "assess",
    "rank_key",
    "NAME_KEY_FIELDS",
    "name_key_version",
    "name_key_fields",
    "prepared_from_key",
    "name_key_rows",
]
