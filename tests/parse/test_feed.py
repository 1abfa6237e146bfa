"""Entry markup becomes text: feedparser's sanitizer is off, so this is where scripts go."""

from __future__ import annotations

from monitor.normalize.article import normalize
from monitor.parse.feed import parse_feed

ATOM = b"""<?xml version="1.0"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
<entry><id>1</id>
<title type="html">&lt;b&gt;Bold&lt;/b&gt; &amp;amp;
&lt;script&gt;alert(1)&lt;/script&gt;news</title>
<link href="https://x.test/1"/>
<content type="html">&lt;p&gt;First&lt;script&gt;steal()&lt;/script&gt;&lt;/p&gt;
&lt;style&gt;p{}&lt;/style&gt;&lt;p onclick="x()"&gt;Second
&lt;a href="/rel"&gt;link&lt;/a&gt;&lt;/p&gt;</content>
</entry></feed>"""


def test_html_titles_and_content_lose_markup_scripts_and_styles() -> None:
    entry = parse_feed(ATOM).entries[0]
    assert entry.title == "Bold & news"
    article = normalize(entry)
    assert article.title == "Bold & news"
    assert article.text == "First\n\nSecond link"


def test_plain_text_titles_keep_their_angle_brackets() -> None:
    rss = b"""<rss version="2.0"><channel><title>c</title><item><guid>1</guid>
    <title>Rates &lt;5% for a &amp; b</title><description>x</description></item></channel></rss>"""
    assert parse_feed(rss).entries[0].title == "Rates <5% for a & b"
