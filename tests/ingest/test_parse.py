"""parse_feed over feedparser's own test corpus (read in place) and a few hand-made feeds."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.ingest.parse import ParsedEntry, ParsedFeed, parse_feed

CORPUS = Path(__file__).resolve().parents[3] / "shared/corpora/feedparser-6.0.14"


def corpus(name: str, *, base_url: str = "http://example.com/feed") -> ParsedFeed:
    """Parse a corpus file with the Content-Type its 'Header:' comment declares, as a server would send."""
    data = (CORPUS / name).read_bytes()
    declared = re.search(rb"Header:\s*Content-type:\s*(.+)", data, re.I)
    content_type = declared.group(1).decode().strip() if declared else None
    return parse_feed(data, content_type=content_type, base_url=base_url)


def only_entry(feed: ParsedFeed) -> ParsedEntry:
    assert len(feed.entries) == 1
    return feed.entries[0]


# --- broken feeds --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "title", "url"),
    [
        ("illformed/rdf_channel_empty_textinput.xml", "crashes here", None),
        ("illformed/rss_item_link_corrupted_ampersands.xml", "", "http://link/get?a=1&b=2"),
    ],
)
def test_bozo_feed_still_yields_its_entries(name: str, title: str, url: str | None):
    feed = corpus(name)
    assert feed.bozo
    assert feed.bozo_reason and feed.bozo_reason.startswith("SAXParseException: ")
    assert "\n" not in feed.bozo_reason
    entry = only_entry(feed)
    assert entry.title == title
    assert entry.url == url


def test_truncated_feed_keeps_channel_data():
    feed = corpus("illformed/rss_incomplete_cdata.xml")
    assert feed.bozo
    assert feed.title == "can feedparser read this xml"
    assert feed.lang == "en-us"
    assert only_entry(feed).lang == "en-us"  # inherited from the channel


def test_wrong_media_type_is_bozo_with_reason():
    feed = corpus("encoding/bozo_http_text_plain.xml")
    assert feed.bozo
    assert feed.bozo_reason == "NonXMLContentType: text/plain is not an XML media type"
    assert feed.entries == []


def test_well_formed_feed_is_not_bozo():
    feed = corpus("wellformed/namespace/atomthreadingwithentry.xml")
    assert not feed.bozo
    assert feed.bozo_reason is None


# --- encodings -----------------------------------------------------------------------------------


def test_charset_from_content_type_wins_over_xml_declaration():
    # declared iso-8859-1 in the document, windows-1252 in the header: the header is right
    entry = only_entry(corpus("encoding/http_text_xml_charset_overrides_encoding_2.xml"))
    assert entry.summary_text == "This is a \xa3\u201ctest.\u201d"


def test_charset_from_content_type_without_xml_declaration():
    entry = only_entry(corpus("encoding/http_text_xml_charset_2.xml"))
    assert entry.summary_text == "This is a \xa3\u201ctest.\u201d"
    assert entry.title == "Foo"


def test_encoding_from_xml_declaration():
    assert only_entry(corpus("encoding/euc-kr-item.xml")).summary_text == "\ub144"


def test_euc_kr_markup_keeps_its_attribute_text():
    entry = only_entry(corpus("encoding/euc-kr-attribute.xml"))
    assert entry.summary_html == '<img alt="\ub144" />'
    assert entry.summary_text == ""


def test_utf8_feed_with_application_xml():
    feed = corpus("encoding/http_i18n.xml")
    assert not feed.bozo
    assert feed.title == "I\xf1t\xebrn\xe2ti\xf4n\xe0liz\xe6ti\xf8n"


def test_no_content_type_sniffs_like_xml_instead_of_flagging():
    # file: feeds have no content type; a clean UTF-8 document must not come out bozo
    feed = parse_feed(
        "<rss><channel><title>Kata\u2019ib</title><item><title>\u0643\u062a\u0627\u0626\u0628</title></item>"
        "</channel></rss>".encode(),
        content_type=None,
        base_url="file:samples/x.xml",
    )
    assert not feed.bozo
    assert feed.title == "Kata\u2019ib"
    assert only_entry(feed).title == "\u0643\u062a\u0627\u0626\u0628"


@pytest.mark.parametrize(
    "name", ["encoding/utf-16le-bom.xml", "encoding/utf-16be-bom.xml", "encoding/ucs-4.xml"]
)
def test_wide_encodings_decode(name: str):
    assert not corpus(name).bozo


# --- dates ---------------------------------------------------------------------------------------


def test_atom_published_is_aware_utc():
    published = only_entry(corpus("wellformed/atom/entry_published_parsed.xml")).published
    assert published == datetime(2003, 12, 31, 10, 14, 55, tzinfo=UTC)
    assert published.tzinfo is UTC


def test_rss_pub_date():
    entry = only_entry(corpus("wellformed/rss/item_pubDate_map_updated_parsed.xml"))
    assert entry.published == datetime(2004, 1, 1, 19, 48, 21, tzinfo=UTC)


def test_offset_is_converted_to_utc():
    entry = only_entry(corpus("wellformed/namespace/atomthreadingwithentry.xml"))
    # 2009-12-08T16:59:02.544-08:00
    assert entry.published == datetime(2009, 12, 9, 0, 59, 2, tzinfo=UTC)
    assert entry.published.utcoffset().total_seconds() == 0


@pytest.mark.parametrize(
    "name", ["wellformed/rss/item_dc_date_parsed.xml", "wellformed/atom/entry_updated_parsed.xml"]
)
def test_updated_stands_in_for_missing_published(name: str):
    assert only_entry(corpus(name)).published == datetime(2003, 12, 31, 10, 14, 55, tzinfo=UTC)


@pytest.mark.parametrize("date", ["not a date", "0000-01-01T00:00:00Z", ""])
def test_unusable_dates_become_none(date: str):
    body = f'<feed xmlns="http://www.w3.org/2005/Atom"><entry><updated>{date}</updated></entry></feed>'
    assert (
        only_entry(parse_feed(body.encode(), content_type=None, base_url="http://e.org/")).published is None
    )


# --- entry fields --------------------------------------------------------------------------------


def test_atom_entry_fields():
    entry = only_entry(corpus("wellformed/namespace/atomthreadingwithentry.xml"))
    assert entry.guid == "tag:blogger.com,1999:blog-893591374313312737.post-4788628857625737701"
    assert (
        entry.url
        == "http://salmon-test.blogspot.com/2009/10/test-post.html?showComment=1260320342544#c4788628857625737701"
    )
    assert entry.title == "bloffo bliff by te..."
    assert entry.author == "John"
    assert entry.content_text == "bloffo bliff by te..."
    assert (
        entry.content_html
        == 'bloffo bliff by <a href="http://example.org/profile/te..." rel="nofollow">te...</a>'
    )


def test_relative_link_resolves_against_base_url():
    entry = only_entry(
        corpus("wellformed/base/http_item_link_base_content_location.xml", base_url="http://example.com/")
    )
    assert entry.url == "http://example.com/relative/uri"


@pytest.mark.parametrize(
    "link",
    ["javascript:alert(1)", " JaVaScRiPt:alert(1)", "data:text/html,x", "vbscript:x", "file:///etc/passwd"],
)
def test_only_web_links_become_the_entry_url(link: str):
    body = f"<rss><channel><item><link>{link}</link><title>t</title></item></channel></rss>".encode()
    entry = only_entry(parse_feed(body, content_type=None, base_url="https://e.org/feed"))
    assert entry.url is None
    assert entry.title == "t"


def test_relative_link_in_a_file_feed_is_dropped():
    body = b"<rss><channel><item><link>/story</link></item></channel></rss>"
    assert only_entry(parse_feed(body, content_type=None, base_url="file:samples/x.xml")).url is None


def test_markup_is_kept_verbatim():
    # feedparser would resolve this href and strip the script; we keep the publisher's markup as is
    entry = only_entry(corpus("wellformed/base/http_item_description_base_content_location.xml"))
    assert entry.summary_html == '<a href="/relative/uri">click here</a>'
    script = only_entry(corpus("wellformed/sanitize/entry_content_script.xml"))
    assert "<script" in script.content_html
    assert script.content_text == "safe description"


def test_item_language():
    assert only_entry(corpus("wellformed/lang/item_dc_language.xml")).lang == "en"
    feed = parse_feed(
        b'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en"><title>t</title>'
        b'<entry xml:lang="fr"><title>Bonjour</title></entry><entry><title>Hello</title></entry></feed>',
        content_type="application/atom+xml",
        base_url="http://e.org/",
    )
    assert feed.lang == "en"
    assert [e.lang for e in feed.entries] == ["fr", "en"]


RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel><title>Desk &amp; Wire</title>
<item>
  <title>Strike on &lt;b&gt;depot&lt;/b&gt;</title>
  <description>&lt;p&gt;First &lt;a href="https://e.org/x" onclick="x()"&gt;report&lt;/a&gt;&lt;/p&gt;
&lt;p&gt;second&lt;/p&gt;</description>
  <content:encoded><![CDATA[<p>Full <script>track()</script>story</p>]]></content:encoded>
  <guid isPermaLink="false">abc-1</guid>
  <link>https://e.org/story?id=1</link>
</item>
<item><title>  plain   1 &lt; 2  </title></item>
</channel></rss>"""


def test_html_fields_give_text_and_keep_markup():
    feed = parse_feed(RSS, content_type="application/rss+xml; charset=utf-8", base_url="https://e.org/feed")
    assert feed.title == "Desk & Wire"
    entry = feed.entries[0]
    assert entry.guid == "abc-1"
    assert entry.url == "https://e.org/story?id=1"
    assert entry.title == "Strike on depot"
    assert entry.summary_text == "First report\nsecond"
    assert (
        entry.summary_html == '<p>First <a href="https://e.org/x" onclick="x()">report</a></p>\n<p>second</p>'
    )
    assert entry.content_text == "Full story"
    assert entry.content_html == "<p>Full <script>track()</script>story</p>"
    assert entry.published is None and entry.author is None and entry.lang is None


def test_plain_text_is_not_read_as_markup():
    entry = parse_feed(RSS, content_type=None, base_url="https://e.org/feed").entries[1]
    assert entry.title == "plain 1 < 2"
    assert entry.guid is None and entry.url is None
    assert entry.summary_text == entry.summary_html == entry.content_text == entry.content_html == ""


def test_plain_text_content_is_escaped_into_html():
    feed = parse_feed(
        b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><title type="text">a &lt;b&gt; c</title>'
        b'<summary type="text">3 &lt; 4 &amp;\n  &lt;script&gt;</summary></entry></feed>',
        content_type=None,
        base_url="http://e.org/",
    )
    entry = only_entry(feed)
    assert entry.title == "a <b> c"
    assert entry.summary_text == "3 < 4 & <script>"
    assert entry.summary_html == "3 &lt; 4 &amp;\n  &lt;script&gt;"


def test_rss_author_name_without_email():
    feed = parse_feed(
        b"<rss><channel><item><author>desk@e.org (Night Desk)</author></item></channel></rss>",
        content_type=None,
        base_url="http://e.org/",
    )
    assert only_entry(feed).author == "Night Desk"


def test_empty_body():
    feed = parse_feed(b"", content_type="application/rss+xml", base_url="http://e.org/")
    assert feed.entries == [] and feed.title is None


def test_body_is_never_opened_as_a_path(tmp_path):
    # feedparser opens a str or bytes argument as a file if it can; parse_feed must not
    target = tmp_path / "feed.xml"
    target.write_bytes(RSS)
    feed = parse_feed(str(target).encode(), content_type=None, base_url="http://e.org/")
    assert feed.entries == []
