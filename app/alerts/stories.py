"""Stories: items about one event, from any number of feeds, so corroboration is counted rather than repeated.

Two items tell the same story when they were published within STORY_WINDOW of each other and their
headline-plus-lead signatures (folded content words, function words dropped, plural -s stripped)
share at least MIN_SHARED words making up at least MIN_OVERLAP of the shorter signature, and, when
both name someone or somewhere (capitalised words past the first), at least one of those names.
Measured on the bundled samples, reworded reports of one event share 9-10 words at 0.53-0.62 of the
shorter signature, while different events on the same days share at most 6 words at 0.40; the name
rule keeps templated headlines apart ("Two rockets land inside Camp Taji" / "… inside Ain al-Asad").
Exact duplicates (same link or same text from another feed) join their first copy's story as they are.
Signatures are stored on the story as space-separated words, names marked with a leading "+".
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.alerts.models import Story, StoryItem
from app.ingest.models import Feed, Item
from app.matching.normalize import normalize

STORY_WINDOW = timedelta(hours=36)
MIN_SHARED = 5
MIN_OVERLAP = 0.5
SIGNATURES_KEPT = 8
UNGRADED = "F"  # NATO admiralty grade for "reliability cannot be judged": pushed items of unknown origin

_FUNCTION_WORDS_TEXT = (
    "a an the of in on at to for from by with and or but as is are was were be been being has have had it its "
    "this that these those after before near into over under says said say told tells according who which "
    "will would could may might not no more most also than their they them his her he she we our i "
    "us u s al el new report reports reported "
    "في من على الى إلى عن مع ان أن التي الذي الذين بعد قبل هذا هذه ما لا او أو كما قد حتى منذ عند"
)
_FUNCTION_WORDS = frozenset(normalize(_FUNCTION_WORDS_TEXT).split())


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and word.isascii() else word


def _names(text: str) -> set[str]:
    """Folded capitalised words of a headline or sentence, except its first word."""
    return {_stem(w) for raw in text.split()[1:] if raw[:1].isupper() for w in normalize(raw).split()}


def signature(item: Item) -> list[str]:
    """The folded content words of an item's headline and lead sentence, names marked "+", sorted."""
    lead = item.summary.replace("\n", " ").split(". ")[0][:300]
    names = _names(item.title) | _names(lead)
    words = {_stem(w) for w in normalize(f"{item.title} {lead}").split()}
    return sorted(f"+{w}" if w in names else w for w in words if len(w) > 1 and w not in _FUNCTION_WORDS)


def same_event(a: set[str], b: set[str]) -> tuple[bool, float]:
    """Whether two signatures tell one event, and how closely (overlap of the shorter one)."""
    if not a or not b:
        return False, 0.0
    plain_a, plain_b = {w.lstrip("+") for w in a}, {w.lstrip("+") for w in b}
    shared = len(plain_a & plain_b)
    overlap = shared / min(len(plain_a), len(plain_b))
    names_a, names_b = {w for w in a if w[0] == "+"}, {w for w in b if w[0] == "+"}
    named_apart = bool(names_a and names_b) and not names_a & names_b
    return shared >= MIN_SHARED and overlap >= MIN_OVERLAP and not named_apart, overlap


def story_for(session: Session, item: Item) -> Story:
    """The story an item belongs to: its first copy's, a near-duplicate's from another source, or a new one."""
    if item.duplicate_of_id is not None:
        original = session.get(Item, item.duplicate_of_id)
        if original is not None and original.id != item.id:
            return story_for(session, original)
    existing = session.scalar(select(Story).join(StoryItem).where(StoryItem.item_id == item.id))
    if existing is not None:
        return existing
    words = signature(item)
    mine = set(words)
    candidates = session.scalars(select(Story).where(
        Story.last_seen_at >= item.published_at - STORY_WINDOW,
        Story.first_seen_at <= item.published_at + STORY_WINDOW).order_by(Story.id)).all()
    best, best_overlap = None, 0.0
    for story in candidates:
        for other in story.signature:
            same, overlap = same_event(mine, set(other.split()))
            if same and overlap > best_overlap:
                best, best_overlap = story, overlap
    if best is None:
        best = Story(title=item.title or item.summary[:120], signature=[], first_seen_at=item.published_at,
                     last_seen_at=item.published_at)
        session.add(best)
        session.flush()
    best.signature = [*best.signature, " ".join(words)][-SIGNATURES_KEPT:]
    best.first_seen_at = min(best.first_seen_at, item.published_at)
    best.last_seen_at = max(best.last_seen_at, item.published_at)
    session.add(StoryItem(story_id=best.id, item_id=item.id))
    session.flush()
    return best


@dataclass(frozen=True)
class Source:
    """One independent source of a story: a feed (or push source), its reliability grade, its items."""

    key: str
    title: str
    reliability: str
    items: tuple[int, ...]


def story_sources(session: Session, story_ids: list[int]) -> dict[int, list[Source]]:
    """Independent sources per story (one per feed or push source), best reliability grade first."""
    if not story_ids:
        return {}
    member = select(StoryItem.story_id, Item.id, Item.source).where(StoryItem.story_id.in_(story_ids))
    rows = [*session.execute(member.join(Item, Item.id == StoryItem.item_id)),  # two plain queries: PostgreSQL
            *session.execute(member.join(Item, Item.duplicate_of_id == StoryItem.item_id))]  # plans a UNION in parallel
    feeds = {f.key: f for f in session.scalars(select(Feed).where(Feed.key.in_({r.source for r in rows})))}
    grouped: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for story_id, item_id, source in rows:
        grouped[story_id][source].append(item_id)
    out: dict[int, list[Source]] = {}
    for story_id, by_source in grouped.items():
        found = []
        for key, items in by_source.items():
            feed = feeds.get(key)
            found.append(Source(key, feed.title if feed else key, feed.reliability if feed else UNGRADED,
                                tuple(sorted(set(items)))))
        out[story_id] = sorted(found, key=lambda s: (s.reliability, s.key))
    return out
