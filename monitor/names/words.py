"""Word-by-word differences between a query and an ACE name, reported with the original words."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

from monitor.names.normalise import _normalize

# --------------------------------------------------------------------------
# tokenize and word differences
# --------------------------------------------------------------------------


def tokenize(text: str) -> list[str]:
    """Split on whitespace (any Unicode space, NBSP included); punctuation stays attached.

    Keeping punctuation on its word makes a difference read like the titles a
    person sees: ``Management: -> Management`` for a dropped colon, ``- (v.2)``
    for a version, ``& -> and``.  A stand-alone ``&`` is its own word.
    """
    return text.split()


@dataclass(frozen=True, slots=True)
class Difference:
    """One word-level difference turning the query into the ACE name.

    ``kind`` is ``replace``, ``insert`` (words only the ACE name has),
    ``delete`` (words only the query has) or ``organization`` (same words,
    different organizations; ``old``/``new`` are the organizations).
    ``old``/``new`` are the ORIGINAL words, not the normalised ones.
    """

    kind: str
    old: str
    new: str

    def __str__(self) -> str:
        if self.kind == "insert":
            return f"+ {self.new}"
        if self.kind == "delete":
            return f"- {self.old}"
        if self.kind == "organization":
            return f"organization: {self.old} -> {self.new}"
        return f"{self.old} -> {self.new}"

    def to_dict(self) -> dict:
        return {"kind": self.kind, "old": self.old, "new": self.new, "text": str(self)}


@dataclass(frozen=True, slots=True)
class _Words:
    """Original words, their normalised forms, and which original word each came from."""

    original: tuple[str, ...]
    normalised: tuple[str, ...]
    origin: tuple[int, ...]

    def original_text(self, start: int, end: int) -> str:
        seen: list[int] = []
        for i in self.origin[start:end]:
            if not seen or seen[-1] != i:
                seen.append(i)
        return " ".join(self.original[i] for i in seen)


def _words(text: str, norm_words: tuple[str, ...] | None = None) -> _Words:
    """Normalise word by word so each normalised word knows its original word.

    A word that normalises to nothing (a stand-alone ``®``) disappears; one
    that normalises to several (rare NFKC cases) maps each piece back to it.
    ``norm_words`` (the words of ``normalize(text)``) is a shortcut for ASCII
    text, where normalisation never adds, drops or merges a word.
    """
    original = tuple(tokenize(text))
    if norm_words is not None and text.isascii() and len(norm_words) == len(original):
        return _Words(original, norm_words, tuple(range(len(original))))
    normalised: list[str] = []
    origin: list[int] = []
    for i, word in enumerate(original):
        for piece in _normalize(word)[0].split():
            normalised.append(piece)
            origin.append(i)
    return _Words(original, tuple(normalised), tuple(origin))


def _alnum(words: Sequence[str]) -> str:
    return "".join(ch for w in words for ch in w if ch.isalnum())


def _merge_moves(ops: list[list]) -> list[list]:
    """Collapse an insert and a delete of the same words (a word moved) into one replace.

    Levenshtein reports "Google Analytics Data" vs "Google Data Analytics" as
    ``+ Data`` ... ``- Data``; one ``Analytics Data -> Data Analytics`` reads
    better.  ``ops`` items are [tag, i1, i2, j1, j2].
    """
    changed = True
    while changed:
        changed = False
        for x, a in enumerate(ops):
            for y in range(x + 1, len(ops)):
                b = ops[y]
                pair = {a[0], b[0]}
                if pair != {"insert", "delete"}:
                    continue
                ins, dele = (a, b) if a[0] == "insert" else (b, a)
                ins_len, del_len = ins[4] - ins[3], dele[2] - dele[1]
                if ins_len == del_len and ins[5] == dele[5]:
                    merged = ["replace", a[1], b[2], a[3], b[4], None]
                    ops[x : y + 1] = [merged]
                    changed = True
                    break
            if changed:
                break
    return ops


def _realign(a: Sequence[str], b: Sequence[str], i1: int, i2: int, j1: int, j2: int):
    """Re-align a mixed run (replace plus insert/delete) pairing the most similar words.

    Levenshtein picks any of the equally short edit scripts: "Meta Front-End
    Developer" vs "... Development Specialization" may come out as ``+
    Development``, ``Developer -> Specialization``.  A small DP over the run
    keeps the minimal number of word edits (the tie-break weight is below one
    edit in total) and among those prefers pairing similar words:
    ``Developer -> Development``, ``+ Specialization``.
    """
    old, new = a[i1:i2], b[j1:j2]
    m, n = len(old), len(new)
    eps = 1.0 / (m + n + 1)
    cost = [[0.0] * (n + 1) for _ in range(m + 1)]
    for i in range(1, m + 1):
        cost[i][0] = cost[i - 1][0] + 1 + eps
    for j in range(1, n + 1):
        cost[0][j] = cost[0][j - 1] + 1 + eps
    for i in range(1, m + 1):
        for j in range(1, n + 1):
            sub = (
                0.0
                if old[i - 1] == new[j - 1]
                else 1 + eps * (1 - Levenshtein.normalized_similarity(old[i - 1], new[j - 1]))
            )
            cost[i][j] = min(cost[i - 1][j - 1] + sub, cost[i - 1][j] + 1 + eps, cost[i][j - 1] + 1 + eps)
    steps: list[tuple[str, int, int]] = []  # (tag, i, j) walking back
    i, j = m, n
    while i or j:
        if i and j:
            sub = (
                0.0
                if old[i - 1] == new[j - 1]
                else 1 + eps * (1 - Levenshtein.normalized_similarity(old[i - 1], new[j - 1]))
            )
            if cost[i][j] == cost[i - 1][j - 1] + sub:
                steps.append(("equal" if sub == 0.0 else "replace", i - 1, j - 1))
                i, j = i - 1, j - 1
                continue
        if i and (not j or cost[i][j] == cost[i - 1][j] + 1 + eps):
            steps.append(("delete", i - 1, j))
            i -= 1
        else:
            steps.append(("insert", i, j - 1))
            j -= 1
    out: list[tuple[str, int, int, int, int]] = []
    for tag, i, j in reversed(steps):
        di, dj = (0 if tag == "insert" else 1), (0 if tag == "delete" else 1)
        if out and out[-1][0] == tag and out[-1][2] == i1 + i and out[-1][4] == j1 + j:
            prev = out[-1]
            out[-1] = (tag, prev[1], prev[2] + di, prev[3], prev[4] + dj)
        else:
            out.append((tag, i1 + i, i1 + i + di, j1 + j, j1 + j + dj))
    return [op for op in out if op[0] != "equal"]


def _difference_ops(wa: _Words, wb: _Words) -> list[tuple[str, int, int, int, int]]:
    """Word-level edit script with readable grouping (see ``word_differences``)."""
    a, b = wa.normalised, wb.normalised
    ops = [[o.tag, o.src_start, o.src_end, o.dest_start, o.dest_end, None] for o in Levenshtein.opcodes(a, b)]
    for op in ops:  # content key for move detection
        op[5] = a[op[1] : op[2]] if op[0] == "delete" else b[op[3] : op[4]] if op[0] == "insert" else None
    ops = _merge_moves(ops)

    out: list[tuple[str, int, int, int, int]] = []
    run: list[list] = []

    def flush() -> None:
        if not run:
            return
        i1, i2, j1, j2 = run[0][1], run[-1][2], run[0][3], run[-1][4]
        # "Front-End" vs "Front End": the same letters split differently is
        # one difference, not a replace plus an insert.
        if len(run) > 1 and _alnum(a[i1:i2]) == _alnum(b[j1:j2]):
            out.append(("replace", i1, i2, j1, j2))
        elif len(run) > 1:
            out.extend(_realign(a, b, i1, i2, j1, j2))
        else:
            out.extend((op[0], op[1], op[2], op[3], op[4]) for op in run)
        run.clear()

    for op in ops:
        if op[0] == "equal":
            flush()
        else:
            run.append(op)
    flush()
    return out


def _differences(wa: _Words, wb: _Words) -> tuple[Difference, ...]:
    return tuple(
        Difference(tag, wa.original_text(i1, i2), wb.original_text(j1, j2))
        for tag, i1, i2, j1, j2 in _difference_ops(wa, wb)
    )


def word_differences(a: str, b: str) -> list[Difference]:
    """Words that differ between ``a`` (query) and ``b`` (ACE name), read as edits a -> b.

    Compared on normalised words (so case or a curly quote is not a
    difference) but reported with the original words.  Consecutive inserted
    or deleted words form one difference (``+ Professional Certificate``); a
    re-split word is one replace (``Front-End -> Front End``); a moved word
    is one replace of the span (``Analytics Data -> Data Analytics``).
    """
    return list(_differences(_words(a), _words(b)))
