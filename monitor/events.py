"""The change events' one vocabulary: the `Event` value and the table of its kinds.

Why one table: the digest's headings, the alert title's short words, the feed's
entry titles, the Rich output and the JSON all name the same kinds, in the same
order. Spelled once here, a new kind cannot be forgotten by one of them.

Why a frozen value: an event, once judged, is evidence; nothing downstream may
edit it. The store keeps events as rows (`to_row`/`from_row` are the boundary),
and every JSON output prints `to_json`'s one shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Kind:
    """One kind of event: its stored `type`, the digest/feed `heading`, the alert title's `short` word,
    and its place in every listing (`order`, most urgent first)."""

    type: str
    heading: str
    short: str
    order: int


def _kinds(*rows: tuple[str, str, str]) -> tuple[Kind, ...]:
    return tuple(Kind(type_, heading, short, order) for order, (type_, heading, short) in enumerate(rows))


KINDS = _kinds(
    ("lost_ace", "Lost ACE recommendation", "lost ACE"),
    ("gained_ace", "Gained ACE recommendation", "gained"),
    ("credits_changed", "Credits changed", "credits changed"),
    ("recommendation_renewed", "Recommendation renewed (a new period, same credits)", "renewed"),
    ("name_mismatch", "Coursera title no longer matches the ACE name word for word", "name mismatch"),
    ("claim_changed", "Coursera's ACE claim now stands differently against the ACE guide", "claim changed"),
    ("renamed", "Renamed", "renamed"),
    ("recommendation_expiring", "Recommendation period ending soon", "expiring"),
    ("new_program", "New on Coursera", "new"),
    ("removed_program", "Gone from Coursera", "removed"),
    ("record_unreadable", "Unreadable for several healthy runs (its changes wait)", "unreadable"),
    ("source_unhealthy", "Source unhealthy (its changes are held back)", "source unhealthy"),
    ("source_recovered", "Source recovered", "source recovered"),
)
BY_TYPE = {kind.type: kind for kind in KINDS}
EVENT_TYPES = tuple(BY_TYPE)


def kind_of(type_: str) -> Kind:
    """The kind of a type; a type this version does not know (a newer store) names itself, listed last."""
    return BY_TYPE.get(type_) or Kind(type_, type_, type_, len(KINDS))


#: The stored columns of an event, in the order every JSON output prints them.
JSON_FIELDS = (
    "id",
    "type",
    "source",
    "subject_key",
    "subject",
    "old",
    "new",
    "evidence_url",
    "from_run_id",
    "to_run_id",
    "detected_at",
    "details",
)


@dataclass(frozen=True)
class Event:
    """One typed change between two healthy observations, with the runs and the page it was seen on.

    `details` holds what only some kinds carry (ACE ID, reason, word differences, credits, slug...);
    the properties below name the ones the outputs read. `id`, `cycle_id` and `detected_at` are set
    once the event is stored."""

    type: str
    source: str
    subject_key: str
    subject: str
    old: str | None = None
    new: str | None = None
    evidence_url: str | None = None
    from_run_id: int | None = None
    to_run_id: int | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    id: int | None = None
    cycle_id: int | None = None
    detected_at: datetime | None = None

    @property
    def kind(self) -> Kind:
        return kind_of(self.type)

    @property
    def ace_id(self) -> str | None:
        return self.details.get("ace_id")

    @property
    def ace_title(self) -> str | None:
        return self.details.get("ace_title")

    @property
    def reason(self) -> str | None:
        return self.details.get("reason")

    @property
    def differences(self) -> list[str]:
        return list(self.details.get("differences") or [])

    @property
    def side(self) -> str | None:
        """Which source a `renamed` page is on (`ace` or `coursera`)."""
        return self.details.get("side")

    def to_row(self) -> dict[str, Any]:
        """The columns the store writes (its id, cycle and time are the store's to give)."""
        return {name: getattr(self, name) for name in JSON_FIELDS if name not in ("id", "detected_at")} | {
            "details": dict(self.details)
        }

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Event:
        """An event as the store returns it (a row mapping; extra columns are ignored)."""
        return cls(
            type=row["type"],
            source=row["source"],
            subject_key=row["subject_key"],
            subject=row.get("subject") or "",
            old=row.get("old"),
            new=row.get("new"),
            evidence_url=row.get("evidence_url"),
            from_run_id=row.get("from_run_id"),
            to_run_id=row.get("to_run_id"),
            details=dict(row.get("details") or {}),
            id=row.get("id"),
            cycle_id=row.get("cycle_id"),
            detected_at=row.get("detected_at"),
        )

    def to_json(self) -> dict[str, Any]:
        """The one JSON shape of an event (`run --json`, `changes --json`, `history --json`, the web API);
        times and scraped text are made safe by the JSON encoder that prints it."""
        return {name: getattr(self, name) for name in JSON_FIELDS} | {"details": dict(self.details)}

    def with_details(self, **details: Any) -> Event:
        return replace(self, details={**self.details, **details})


def event(
    type_: str,
    source: str,
    key: str,
    subject: str,
    old: object = None,
    new: object = None,
    url: str | None = None,
    runs: tuple[int | None, int | None] = (None, None),
    **details: Any,
) -> Event:
    """A new event of a known kind; `old`/`new` are kept as text (they are shown, not computed with)."""
    if type_ not in BY_TYPE:
        raise ValueError(f"unknown event type {type_!r}")
    return Event(
        type=type_,
        source=source,
        subject_key=key,
        subject=subject,
        old=None if old is None else str(old),
        new=None if new is None else str(new),
        evidence_url=url,
        from_run_id=runs[0],
        to_run_id=runs[1],
        details=details,
    )


def grouped(events: list[Event]) -> list[tuple[Kind, list[Event]]]:
    """Events by kind, in the table's order (unknown types last, by name), each group in the order given."""
    groups: dict[str, list[Event]] = {}
    for item in events:
        groups.setdefault(item.type, []).append(item)
    kinds = sorted((kind_of(type_) for type_ in groups), key=lambda kind: (kind.order, kind.type))
    return [(kind, groups[kind.type]) for kind in kinds]
