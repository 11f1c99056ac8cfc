"""Quantities written before a unit word: digits, English and Arabic number words, bounds, the unit gap."""

from __future__ import annotations

import pytest

from app.matching.normalize import normalize
from app.matching.numbers import quantity_before


def q(text: str, max_gap: int = 2) -> int | None:
    """The lower bound read from the words before a unit (the unit itself is not part of `text`)."""
    return quantity_before(normalize(text).split(), max_gap)


@pytest.mark.parametrize("text, value", [
    ("24", 24),
    ("a barrage of 24", 24),
    ("two", 2),
    ("a", 1),
    ("nine", 9),
    ("ten", 10),
    ("twelve", 12),
    ("twenty-four", 24),
    ("twenty four", 24),
    ("a dozen", 12),
    ("two dozen", 24),
    ("a hundred", 100),
    ("two hundred", 200),
    ("1,000", 1000),
    ("dozens of", 24),
    ("hundreds of", 200),
    ("a pair of", 2),
])
def test_numbers_in_digits_and_words(text, value):
    assert q(text) == value


@pytest.mark.parametrize("text, value", [
    ("over 30", 31),
    ("more than 30", 31),
    ("more than a dozen", 13),
    ("upwards of 30", 31),
    ("at least 10", 10),
    ("at least a dozen", 12),
    ("as many as 30", 30),
    ("about 10", 10),
    ("nearly 10", 10),
    ("some 40", 40),
])
def test_lower_bounds_and_approximations(text, value):
    assert q(text) == value


@pytest.mark.parametrize("text", ["fewer than five", "less than 10", "under 30", "up to 12", "at most 30",
                                  "no more than 20", "أقل من عشرة"])
def test_upper_bounds_never_prove_a_large_quantity(text):
    assert q(text) is None


@pytest.mark.parametrize("text, value", [
    ("ثلاثة", 3),
    ("ثلاث", 3),
    ("عشرة", 10),
    ("عشرين", 20),
    ("عشرات", 20),
    ("أكثر من 10", 11),
    ("اكثر من عشرة", 11),
    ("ما لا يقل عن عشرة", 10),
    ("١٢", 12),  # Arabic-Indic digits
])
def test_arabic_numbers_and_bounds(text, value):
    assert q(text) == value


def test_the_threshold_edge_is_exact():
    assert q("nine") == 9 and q("9") == 9
    assert q("ten") == 10 and q("10") == 10


def test_adjectives_may_stand_between_number_and_unit_up_to_the_gap():
    assert q("two Katyusha", max_gap=2) == 2
    assert q("twenty large Katyusha", max_gap=2) == 20
    assert q("twenty very large Katyusha", max_gap=2) is None
    assert q("twenty Katyusha", max_gap=0) is None
    assert q("thirty of", max_gap=0) == 30  # "of" and "and" are linkers, not gap words


def test_no_number_no_quantity():
    assert q("Katyusha") is None
    assert q("") is None
    assert q("the 19th") is None


@pytest.mark.parametrize("text, value", [
    ("On March 14 three", 3),  # 14 + 3 = 17
    ("On March 14, 2020, two", 2),  # 14 * 2020 + 2 = 28282
    ("In 2020 five", 5),  # 2025
    ("At 11:30 two", 2),  # 43
])
def test_a_date_or_time_before_the_count_is_not_part_of_it(text, value):
    assert q(text) == value


@pytest.mark.parametrize("text, value", [("no fewer than 12", 12), ("no less than a dozen", 12)])
def test_no_fewer_than_is_a_lower_bound(text, value):
    assert q(text) == value


@pytest.mark.parametrize("text", ["between 8 and 12", "8 to 12", "8-12"])
def test_a_range_gives_its_lower_end(text):
    assert q(text) == 8
