"""normalize_url and content_fingerprint: what must collide, and what must not."""

from __future__ import annotations

import re

import pytest

from app.ingest.dedup import content_fingerprint, normalize_url
from app.ingest.text import html_to_text


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTPS://Example.COM/News/Story", "https://example.com/News/Story"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("http://example.com:443/a", "http://example.com:443/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("https://example.com/a#comments", "https://example.com/a"),
        ("https://example.com/a/", "https://example.com/a"),
        ("https://example.com/a//", "https://example.com/a"),
        ("https://example.com/", "https://example.com/"),
        ("https://example.com", "https://example.com/"),
        ("https://example.com/?b=2&a=1", "https://example.com/?a=1&b=2"),
        (
            "https://example.com/s?utm_source=rss&utm_medium=feed&UTM_Campaign=x&id=7&fbclid=abc&gclid=d"
            "&mc_cid=e&mc_eid=f",
            "https://example.com/s?id=7",
        ),
        ("https://example.com/s?utm_source=rss", "https://example.com/s"),
        ("https://example.com/s?q=a%20b&q=a+b", "https://example.com/s?q=a%20b&q=a+b"),
        ("https://example.com/s?a=1&&b=&", "https://example.com/s?a=1&b="),
        ("https://[2001:DB8::1]:443/x", "https://[2001:db8::1]/x"),
        ("  https://example.com/a  ", "https://example.com/a"),
        ("https://user@Example.com/a", "https://user@example.com/a"),
    ],
)
def test_normalize_url(url: str, expected: str):
    assert normalize_url(url) == expected


def test_http_and_https_stay_distinct():
    assert normalize_url("http://example.com/a") != normalize_url("https://example.com/a")


def test_path_case_and_meaningful_params_are_kept():
    assert normalize_url("https://e.org/A") != normalize_url("https://e.org/a")
    assert normalize_url("https://e.org/s?id=1") != normalize_url("https://e.org/s?id=2")
    assert normalize_url("https://e.org/s?utm=1") == "https://e.org/s?utm=1"  # only utm_*


def test_normalization_is_idempotent():
    url = "HTTP://Ex.org:80/p/?utm_source=x&z=1&a=2#f"
    assert normalize_url(normalize_url(url)) == normalize_url(url)


def test_odd_input_does_not_raise():
    assert normalize_url("") == ""
    assert (
        normalize_url("urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a")
        == "urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a"
    )
    assert normalize_url("https://example.com:99999/a/") == "https://example.com:99999/a"


# --- content_fingerprint -----------------------------------------------------------------------


def test_fingerprint_is_sha1_hex():
    assert re.fullmatch(r"[0-9a-f]{40}", content_fingerprint("t", "x"))


def test_same_story_under_different_markup_collides():
    a = html_to_text(
        "<p>Militia <b>convoy</b> seen near the border.</p><p>Officials said: &ldquo;no comment&rdquo;.</p>"
    )
    b = html_to_text('<div>MILITIA convoy seen near the border<br>Officials said "no comment"</div>')
    assert content_fingerprint("Convoy seen — border", a) == content_fingerprint("convoy seen: border!", b)


def test_apostrophe_and_spacing_variants_collide():
    assert content_fingerprint("Kata\u2019ib  Hezbollah", "x") == content_fingerprint(
        "kata'ib hezbollah", "x"
    )
    assert content_fingerprint("ｆｕｌｌ width", "x") == content_fingerprint("full width", "x")


def test_only_the_start_of_the_text_counts():
    start = "word " * 100  # 500 characters once folded
    assert content_fingerprint("t", start + "tail one") == content_fingerprint("t", start + "another tail")
    assert content_fingerprint("t", "change early " + start) != content_fingerprint("t", start)


def test_different_stories_differ():
    assert content_fingerprint("Strike on depot", "text") != content_fingerprint("Strike on port", "text")
    assert content_fingerprint("t", "one") != content_fingerprint("t", "two")


def test_title_and_text_are_kept_apart():
    assert content_fingerprint("a b", "c") != content_fingerprint("a", "b c")
