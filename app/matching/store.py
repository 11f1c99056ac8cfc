"""The one query module windowed rules read through, and its in-memory implementation (backtests).

The live implementation over the service database is app.matching.sqlstore.SqlStore; both
answer the same questions, so a backtest reproduces what live running would have done.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from datetime import datetime, timedelta
from operator import itemgetter
from typing import Protocol

_at = itemgetter(0)


class Store(Protocol):
    """Stored hits, observations, rule state and sightings, queried by event-time windows."""

    def add_hit(self, firing) -> object: ...
    def hits(self, indicator_ids: set[str], since: datetime, until: datetime) -> list[tuple[datetime, list]]: ...
    def count_hits(self, indicator_ids: set[str], since: datetime, until: datetime) -> int: ...
    def last_hit_at(self, indicator_ids: set[str], until: datetime) -> datetime | None: ...
    def distinct_indicators(self, indicator_ids: set[str], since: datetime, until: datetime) -> dict[str, list]: ...
    def count_by_indicator(self, indicator_ids: set[str], since: datetime, until: datetime) -> dict[str, int]: ...
    def indicators_with_hits(self, indicator_ids: set[str], since: datetime, until: datetime) -> frozenset[str]: ...
    def add_observation(self, indicator_id: str, topic: str, key: str, item_id, at: datetime) -> None: ...
    def observation_keys(self, indicator_id: str, topic: str, since: datetime, until: datetime) -> dict: ...
    def get_state(self, indicator_id: str, key: str) -> dict | None: ...
    def set_state(self, indicator_id: str, key: str, value: dict) -> None: ...
    def sightings(self, indicator_id: str) -> list[dict]: ...
    def add_sighting(self, indicator_id: str, name: str, norm: str, item_id, at: datetime) -> None: ...
    def touch_sighting(self, indicator_id: str, norm: str, at: datetime) -> None: ...
    def observed_since(self) -> datetime | None: ...
    def items_between(self, since: datetime, until: datetime) -> int: ...
    def record_level(self, change) -> None: ...


class MemoryStore:
    """Store for backtests: windows are (since, until]; data older than `horizon` is pruned.

    Memory stays flat in the stream's length because nothing older than the longest window is kept.
    """

    def __init__(self, horizon: timedelta = timedelta(days=120)) -> None:
        self.horizon = horizon
        self._hits: dict[str, list[tuple[datetime, int, list]]] = defaultdict(list)
        self._newest: dict[str, datetime] = {}  # latest event time per indicator: scenario scores read only this
        self._answers: dict[tuple[frozenset, timedelta], _Answer] = {}
        self._obs: dict[tuple[str, str], list[tuple[datetime, str, object]]] = defaultdict(list)
        self._state: dict[tuple[str, str], dict] = {}
        self._sightings: dict[str, dict[str, dict]] = defaultdict(dict)
        self._items: list[datetime] = []
        self._first_item: datetime | None = None
        self._seq = 0
        self.levels: list = []

    # items ------------------------------------------------------------------------------------
    def record_item(self, at: datetime) -> None:
        if self._first_item is None or at < self._first_item:
            self._first_item = at
        if not self._items or at >= self._items[-1]:
            self._items.append(at)
        else:
            bisect.insort(self._items, at)

    def observed_since(self) -> datetime | None:
        return self._first_item

    def items_between(self, since: datetime, until: datetime) -> int:
        return bisect.bisect_right(self._items, until) - bisect.bisect_right(self._items, since)

    # hits -------------------------------------------------------------------------------------
    def add_hit(self, firing) -> int:
        self._seq += 1
        rows = self._hits[firing.indicator_id]
        entry = (firing.at, self._seq, list(firing.item_ids))
        if not rows or firing.at >= rows[-1][0]:
            rows.append(entry)
            self._newest[firing.indicator_id] = firing.at
        else:
            bisect.insort(rows, entry, key=lambda r: (r[0], r[1]))
        for (ids, lookback), answer in self._answers.items():
            if firing.indicator_id in ids:
                answer.add(firing.indicator_id, firing.at, lookback)
        return self._seq

    def _window(self, rows, since, until):
        lo = bisect.bisect_right(rows, since, key=_at)
        hi = bisect.bisect_right(rows, until, key=_at)
        return rows[lo:hi]

    def hits(self, indicator_ids, since, until):
        out = [(r[0], r[2]) for i in indicator_ids for r in self._window(self._hits.get(i, []), since, until)]
        return sorted(out, key=_at) if len(indicator_ids) > 1 else out

    def count_hits(self, indicator_ids, since, until) -> int:
        return sum(len(self._window(self._hits.get(i, []), since, until)) for i in indicator_ids)

    def last_hit_at(self, indicator_ids, until):
        best = None
        for i in indicator_ids:
            rows = self._hits.get(i, [])
            k = bisect.bisect_right(rows, until, key=_at)
            if k and (best is None or rows[k - 1][0] > best):
                best = rows[k - 1][0]
        return best

    def distinct_indicators(self, indicator_ids, since, until):
        out = {}
        for i in indicator_ids:
            rows = self._window(self._hits.get(i, []), since, until)
            if rows:
                out[i] = [x for r in rows for x in r[2]]
        return out

    def count_by_indicator(self, indicator_ids, since, until) -> dict[str, int]:
        out = {}
        with_hits = indicator_ids & self._hits.keys() if len(indicator_ids) > len(self._hits) else indicator_ids
        for i in with_hits:
            rows = self._hits.get(i)
            if not rows or rows[-1][0] <= since or rows[0][0] > until:
                continue
            n = len(self._window(rows, since, until))
            if n:
                out[i] = n
        return out

    def indicators_with_hits(self, indicator_ids, since, until) -> frozenset[str]:
        """Asked after every firing item for each affected scenario, so answers are kept per set of ids and look-back
        and brought forward from the hits added since (see _Answer); a full pass only when one may have expired."""
        indicator_ids = frozenset(indicator_ids)  # the scenario's own frozenset: no copy, its hash is cached
        key = (indicator_ids, until - since)
        kept = self._answers.get(key)
        if kept is None or not kept.advance(since, until):
            if len(self._answers) >= 1024:  # callers asking for ever new sets must not grow memory without bound
                self._answers.clear()
            fired, expires = self._with_hits(indicator_ids, since, until)
            kept = self._answers[key] = _Answer(until, fired, expires, self._later_hits(indicator_ids, until))
        return kept.snapshot()

    def _with_hits(self, indicator_ids, since, until) -> tuple[set[str], datetime | None]:
        """Ids with a hit in (since, until], and when the first of them stops having one (its newest hit leaves)."""
        out, first_out = set(), None
        newest, lookback = self._newest, until - since
        for i in indicator_ids:
            t = newest.get(i)
            if t is None or t <= since:
                continue
            if t > until:  # a later hit: look inside the window
                rows = self._window(self._hits[i], since, until)
                if not rows:
                    continue
                t = rows[-1][0]
            out.add(i)
            if first_out is None or t + lookback < first_out:
                first_out = t + lookback
        return out, first_out

    def _later_hits(self, indicator_ids, until) -> dict[str, datetime]:
        """For ids with hits after `until`, the earliest such hit (they join answers once time reaches it)."""
        out = {}
        for i in indicator_ids & self._newest.keys():
            if self._newest[i] > until:
                rows = self._hits[i]
                out[i] = rows[bisect.bisect_right(rows, until, key=_at)][0]
        return out

    # observations -----------------------------------------------------------------------------
    def add_observation(self, indicator_id, topic, key, item_id, at) -> None:
        rows = self._obs[(indicator_id, topic)]
        entry = (at, key, item_id)
        if not rows or at >= rows[-1][0]:
            rows.append(entry)
        else:
            bisect.insort(rows, entry, key=_at)

    def observation_keys(self, indicator_id, topic, since, until) -> dict:
        out: dict[str, list] = defaultdict(list)
        for _, key, item_id in self._window(self._obs.get((indicator_id, topic), []), since, until):
            out[key].append(item_id)
        return dict(out)

    # state and sightings ----------------------------------------------------------------------
    def get_state(self, indicator_id, key):
        return self._state.get((indicator_id, key))

    def set_state(self, indicator_id, key, value) -> None:
        self._state[(indicator_id, key)] = value

    def sightings(self, indicator_id) -> list[dict]:
        return list(self._sightings[indicator_id].values())

    def add_sighting(self, indicator_id, name, norm, item_id, at) -> None:
        self._sightings[indicator_id][norm] = {"name": name, "norm": norm, "item_id": item_id,
                                               "first_seen_at": at, "times_seen": 1}

    def touch_sighting(self, indicator_id, norm, at) -> None:
        s = self._sightings[indicator_id].get(norm)
        if s:
            s["times_seen"] += 1

    def record_level(self, change) -> None:
        self.levels.append(change)

    # memory bound -----------------------------------------------------------------------------
    def prune(self, now: datetime) -> None:
        """Forget what no window can reach any more."""
        cutoff = now - self.horizon
        for _i, rows in self._hits.items():
            k = bisect.bisect_left(rows, cutoff, key=_at)
            if k:
                del rows[:k]
        for rows in self._obs.values():
            k = bisect.bisect_left(rows, cutoff, key=_at)
            if k:
                del rows[:k]
        k = bisect.bisect_left(self._items, cutoff)
        if k:
            del self._items[:k]


class _Answer:
    """A kept answer of indicators_with_hits: which ids had a hit in the window ending `until`, when the first
    of them may leave it, and hits added after `until` (they join when the window reaches them)."""

    def __init__(self, until: datetime, fired: set[str], expires: datetime | None, later: dict[str, datetime]):
        self.until, self.fired, self.expires, self.later = until, fired, expires, later
        self._frozen: frozenset[str] | None = None

    def snapshot(self) -> frozenset[str]:
        """The answer, the same object until it changes (so callers can key what they derive from it)."""
        if self._frozen is None:
            self._frozen = frozenset(self.fired)
        return self._frozen

    def _join(self, indicator_id: str) -> None:
        if indicator_id not in self.fired:
            self.fired.add(indicator_id)
            self._frozen = None

    def add(self, indicator_id: str, at: datetime, lookback: timedelta) -> None:
        if at > self.until:
            if indicator_id not in self.later or at < self.later[indicator_id]:
                self.later[indicator_id] = at
        elif at > self.until - lookback:  # a late hit inside the kept window
            self._join(indicator_id)
            if self.expires is None or at + lookback < self.expires:
                self.expires = at + lookback

    def advance(self, since: datetime, until: datetime) -> bool:
        """Move the answer to the window (since, until]; False when only a full pass can tell."""
        if until < self.until or (self.expires is not None and until >= self.expires):
            return False
        for i, at in list(self.later.items()):
            if at <= until:
                if at <= since:
                    return False  # it may have had more hits since, inside the window: recount
                self._join(i)
                if self.expires is None or at + (until - since) < self.expires:
                    self.expires = at + (until - since)
                del self.later[i]
        self.until = until
        return True
