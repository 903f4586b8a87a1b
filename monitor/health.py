"""The health gate: is a crawl complete enough to be compared with the last one?

Like Spidermon monitors: one small check per rule, each with a message a
person can act on. A run that fails any check is stored but never diffed, so
a broken crawl cannot read as "every program lost ACE status".
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import median


@dataclass(frozen=True)
class HealthConfig:
    """The gate's thresholds (the [health] table of the config file; acewatch/config.py reads it)."""

    max_error_ratio: float = 0.05
    max_unknown_ratio: float = 0.05
    # A run is unhealthy for failed requests (unreadable records) only above the ratio AND at
    # least this many: one or two odd pages of a small catalog hold back only their own events.
    min_failed_requests: int = 3
    min_unreadable_records: int = 3
    # A record still unreadable after this many healthy runs in a row is reported once (record_unreadable).
    unreadable_alert_after: int = 3
    min_fraction_of_median: float = 0.8
    median_of_last: int = 5


@dataclass(frozen=True)
class Check:
    check: str
    ok: bool
    message: str

    def to_dict(self) -> dict:
        return {"check": self.check, "ok": self.ok, "message": self.message}


def check_finished(run, _history, _limits) -> Check:
    ok = run.outcome == "finished" and run.finish_reason == "finished"
    return Check(
        "finished",
        ok,
        "crawl finished normally" if ok else f"crawl did not finish normally ({run.finish_reason or run.outcome})",
    )


def check_not_empty(run, _history, _limits) -> Check:
    return Check("records", run.records > 0, f"{run.records} records" if run.records else "the crawl stored no records")


def within(count: int, total: int, max_ratio: float, min_count: int) -> tuple[bool, str]:
    """Healthy unless `count` is above both the ratio limit and the absolute floor; and why."""
    ratio = count / max(total, 1)
    ok = ratio <= max_ratio or count < min_count
    return ok, f"{ratio:.1%}, limit {max_ratio:.0%} and at least {min_count}"


def check_errors(run, _history, limits: HealthConfig) -> Check:
    ok, limit = within(run.errors, run.pages, limits.max_error_ratio, limits.min_failed_requests)
    return Check("errors", ok, f"{run.errors} failed requests of {run.pages} pages ({limit})")


def check_unknown(run, _history, limits: HealthConfig) -> Check:
    ok, limit = within(run.unknown, run.records, limits.max_unknown_ratio, limits.min_unreadable_records)
    return Check("unreadable", ok, f"{run.unknown} of {run.records} records unreadable ({limit})")


def check_catalog_floor(run, history, limits: HealthConfig) -> Check:
    """The catalog cannot shrink far below its recent size in one night."""
    sizes = [r.records for r in history[: limits.median_of_last]]
    if not sizes:
        return Check("catalog_size", True, f"{run.records} records (no earlier healthy run to compare)")
    floor = int(median(sizes) * limits.min_fraction_of_median)
    return Check(
        "catalog_size",
        run.records >= floor,
        f"{run.records} records; floor {floor} ({limits.min_fraction_of_median:.0%} of the median "
        f"{median(sizes):g} of the last {len(sizes)} healthy runs)",
    )


CHECKS = (check_finished, check_not_empty, check_errors, check_unknown, check_catalog_floor)


def judge(run, history, limits: HealthConfig) -> list[Check]:
    """Every check's result for `run`, given earlier healthy runs of its source (newest first)."""
    return [check(run, history, limits) for check in CHECKS]
