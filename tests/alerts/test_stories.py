"""Stories: reworded reports of one event from different feeds become one story; other events stay apart."""

from __future__ import annotations

from sqlalchemy import func, select

from app.alerts.models import Alert, StoryItem
from app.alerts.stories import same_event, signature, story_sources
from app.ingest.models import Item

TAJI_A = ("Rockets slam into Camp Taji north of Baghdad, wounding three Coalition soldiers",
          "Around fifteen Katyusha rockets hit Camp Taji north of Baghdad on Tuesday night, wounding three "
          "Coalition soldiers, officials said.")
TAJI_B = ("Three Coalition soldiers wounded as Katyusha rockets hit Iraq's Camp Taji",
          "Fifteen Katyusha rockets struck Camp Taji, north of Baghdad, late on Tuesday, wounding three Coalition "
          "soldiers, the Coalition said.")
ERBIL = ("Explosive-laden drone targets Erbil airport",
         "A drone carrying explosives struck near Erbil international airport, which hosts Coalition troops.")


def test_signature_keeps_content_words_folded_and_singular_with_names_marked():
    sig = signature(Item(title="The rockets hit Kata'ib Hezbollah's depots", summary="Officials said. More text"))
    assert sig == sorted(sig)
    assert {"rocket", "+kataib", "+hezbollah", "depot", "official"} <= set(sig)
    assert not {"the", "said", "more", "text", "+official"} & set(sig)


def test_templated_headlines_about_different_places_are_different_events():
    a = set(signature(Item(title="Two rockets land inside Camp Taji base", summary="")))
    b = set(signature(Item(title="Two rockets land inside Ain al-Asad base", summary="")))
    assert len({w.lstrip("+") for w in a} & {w.lstrip("+") for w in b}) >= 5
    assert not same_event(a, b)[0]


def test_same_event_needs_enough_shared_words_of_the_shorter_signature():
    a = set(signature(Item(title=TAJI_A[0], summary=TAJI_A[1])))
    b = set(signature(Item(title=TAJI_B[0], summary=TAJI_B[1])))
    c = set(signature(Item(title=ERBIL[0], summary=ERBIL[1])))
    assert same_event(a, b)[0]
    assert not same_event(a, c)[0]
    assert not same_event(a, set())[0]


def test_reworded_reports_from_two_feeds_are_one_story_with_both_sources(ctx, pipeline, item, graded_feeds):
    pipeline(item("a1", *TAJI_A, source="wire-a", published="2020-03-10T21:00:00Z"),
             item("b1", *TAJI_B, source="wire-b", published="2020-03-11T06:30:00Z"))
    with ctx.sessions() as s:
        alerts = s.scalars(select(Alert).where(Alert.indicator_id == "indirect-fire-attack")).all()
        assert len(alerts) == 1 and alerts[0].hit_count == 2
        sources = story_sources(s, [alerts[0].story_id])[alerts[0].story_id]
    assert [(src.key, src.reliability) for src in sources] == [("wire-a", "B"), ("wire-b", "C")]


def test_a_different_event_the_same_day_is_its_own_story(ctx, pipeline, item):
    pipeline(item("a1", *TAJI_A, published="2020-03-10T21:00:00Z"),
             item("b2", *ERBIL, source="wire-b", published="2020-03-10T23:00:00Z"))
    with ctx.sessions() as s:
        assert s.scalar(select(func.count(func.distinct(StoryItem.story_id)))) == 2


def test_the_same_words_days_apart_are_two_events(ctx, pipeline, item):
    pipeline(item("a1", *TAJI_A, published="2020-03-10T21:00:00Z"),
             item("b1", *TAJI_B, source="wire-b", published="2020-03-14T06:30:00Z"))
    with ctx.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Alert)
                        .where(Alert.indicator_id == "indirect-fire-attack")) == 2


def test_an_exact_copy_from_another_feed_corroborates_without_being_matched_again(ctx, pipeline, item, graded_feeds):
    pipeline(item("a1", *TAJI_A, source="wire-a"))
    pipeline(item("c1", *TAJI_A, source="wire-c"))
    with ctx.sessions() as s:
        copy = s.scalar(select(Item).where(Item.source == "wire-c"))
        assert copy.duplicate_of_id is not None
        alert = s.scalar(select(Alert).where(Alert.indicator_id == "indirect-fire-attack"))
        assert alert.hit_count == 1
        sources = story_sources(s, [alert.story_id])[alert.story_id]
    assert [(src.key, src.reliability, len(src.items)) for src in sources] == [("wire-a", "B", 1), ("wire-c", "D", 1)]
