"""Who goes by a name in the store: the title lookups `history` asks, kept per store until a run is written.

`acewatch history NAME` and the web app's /history find every ACE exhibit and Coursera program that
ever went by a name (its id, title, ACE ID or slug, or a title equal after normalisation). Normalising
every stored title on each question cost a web request ~0.2 s on a 40k-exhibit store; the lookups are
built once (`monitor.names.TitleLookup`) and kept while the store's runs are unchanged (`titles_version`).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from monitor.names import TitleLookup
from store import reports as stored
from store.names_index import titles_version

if TYPE_CHECKING:
    from sqlalchemy import Engine

_KEPT: dict[str, tuple[tuple, tuple[TitleLookup, TitleLookup]]] = {}
_LOCK = threading.Lock()


def title_lookups(engine: Engine) -> tuple[TitleLookup, TitleLookup]:
    """(ACE exhibits by cid, Coursera programs by program id) of this store, rebuilt after a run is written."""
    key = engine.url.render_as_string(hide_password=False)
    version = titles_version(engine)
    with _LOCK:
        kept = _KEPT.get(key)
        if kept is not None and kept[0] == version:
            return kept[1]
    lookups = (
        TitleLookup((e.cid, e.title, e.ace_id) for e in stored.exhibit_names(engine)),
        TitleLookup((p.program_id, p.title, p.slug) for p in stored.program_names(engine)),
    )
    with _LOCK:
        _KEPT[key] = (version, lookups)
    return lookups
