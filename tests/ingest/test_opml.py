"""parse_opml: nested categories, exporter quirks, hostile and malformed documents."""

from __future__ import annotations

import pytest

from app.ingest.opml import OpmlError, OpmlFeed, parse_opml

OPML = b"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head><title>Watch subscriptions</title></head>
  <body>
    <outline text="Top level" title="Top level feed" type="rss" xmlUrl="https://top.example/feed.xml"/>
    <outline text="Levant">
      <outline text="Wire A" type="rss" xmlUrl=" https://a.example/rss " htmlUrl="https://a.example/"/>
      <outline title="Only a title" xmlurl="https://b.example/atom"/>
      <outline text="Syria">
        <outline text="Deep" xmlUrl="https://deep.example/feed"/>
      </outline>
      <outline text="No feed here" htmlUrl="https://site.example/"/>
      <outline text="Empty url" xmlUrl="  "/>
    </outline>
    <outline title="Gulf">
      <outline xmlUrl="https://untitled.example/feed"/>
    </outline>
  </body>
</opml>"""


def test_feeds_in_document_order_with_parent_category():
    assert parse_opml(OPML) == [
        OpmlFeed(title="Top level", url="https://top.example/feed.xml", category=None),
        OpmlFeed(title="Wire A", url="https://a.example/rss", category="Levant"),
        OpmlFeed(title="Only a title", url="https://b.example/atom", category="Levant"),
        OpmlFeed(title="Deep", url="https://deep.example/feed", category="Syria"),
        OpmlFeed(title="https://untitled.example/feed", url="https://untitled.example/feed", category="Gulf"),
    ]


def test_non_ascii_encoding_declaration():
    data = '<?xml version="1.0" encoding="iso-8859-1"?><opml><body><outline text="Préfecture" xmlUrl="https://p.example/"/></body></opml>'
    assert parse_opml(data.encode("iso-8859-1"))[0].title == "Préfecture"


def test_empty_body_gives_no_feeds():
    assert parse_opml(b"<opml version='1.0'><head/><body/></opml>") == []


def test_very_deep_nesting_does_not_overflow():
    depth = 5000
    data = b"<opml><body>" + b'<outline text="x">' * depth
    data += (
        b'<outline text="leaf" xmlUrl="https://deep.example/"/>' + b"</outline>" * depth + b"</body></opml>"
    )
    assert parse_opml(data) == [OpmlFeed(title="leaf", url="https://deep.example/", category="x")]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "not well-formed XML: no element found"),
        (b"<opml><body><outline text='a'></body></opml>", "not well-formed XML: mismatched tag: line 1"),
        (b"\xff\xfe garbage", "not well-formed XML"),
        (b"<rss version='2.0'><channel/></rss>", "root element is <rss>, expected <opml>"),
        (b"<opml version='2.0'><head/></opml>", "has no <body>"),
    ],
)
def test_malformed_input_raises_clear_error(data: bytes, message: str):
    with pytest.raises(OpmlError, match=message):
        parse_opml(data)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE opml [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<opml><body><outline text="&lol3;" xmlUrl="https://x.example/"/></body></opml>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE opml [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<opml><body><outline text="&secret;" xmlUrl="https://x.example/"/></body></opml>"""


@pytest.mark.parametrize("data", [BILLION_LAUGHS, EXTERNAL_ENTITY])
def test_hostile_xml_is_refused(data: bytes):
    with pytest.raises(OpmlError, match="OPML refused: entities and external references are not allowed"):
        parse_opml(data)


def test_opml_error_is_a_value_error():
    assert issubclass(OpmlError, ValueError)
