"""Safe Markdown: whatever is typed into a page, release note or advisory cannot run script, load anything
from another host or smuggle raw HTML."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.template import Context, Template
from hypothesis import given, settings
from hypothesis import strategies as st

from psirt.lib.markdown import ALLOWED_TAGS, escape_markdown, is_local_url, render_markdown

HOSTILE = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    '<a href="https://ok.example" onclick="alert(1)">x</a>',
    "<iframe src=https://evil.example></iframe>",
    "<svg/onload=alert(1)>",
    "<style>body{display:none}</style>",
    "<!-- comment --><b>bold</b>",
    '<div style="position:fixed">x</div>',
]


@pytest.mark.parametrize("source", HOSTILE)
def test_raw_html_is_shown_as_text(source):
    html = render_markdown(source)
    assert "<" + source[1:4] not in html  # no tag of the input survives as a tag
    assert "&lt;" in html


@pytest.mark.parametrize(
    "source",
    [
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](  javascript:alert(1)  )",
        "[x](&#106;avascript:alert(1))",
        "[x](java\nscript:alert(1))",
        "[x](vbscript:msgbox(1))",
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "<javascript:alert(1)>",
        "[x][r]\n\n[r]: javascript:alert(1)",
    ],
)
def test_dangerous_link_schemes_never_become_links(source):
    html = render_markdown(source).lower()
    assert 'href="javascript' not in html
    assert 'href="vbscript' not in html
    assert 'href="data:' not in html


def test_links_get_nofollow_noopener():
    html = render_markdown("[vendor](https://example.com/a?b=1&c=2)")
    assert 'href="https://example.com/a?b=1&amp;c=2"' in html
    assert 'rel="nofollow noopener noreferrer"' in html


def test_mailto_links_are_kept():
    assert 'href="mailto:security@example.com"' in render_markdown("<security@example.com>")


@pytest.mark.parametrize(
    "source",
    [
        "![pixel](https://tracker.example/p.gif)",
        "![pixel](//tracker.example/p.gif)",
        "![pixel](data:image/png;base64,iVBORw0KGgo=)",
        '![pixel](http://tracker.example/p.gif "t")',
    ],
)
def test_images_from_other_hosts_are_not_loaded(source):
    html = render_markdown(source)
    assert "<img" not in html
    assert "pixel" in html  # the alt text stays readable


def test_images_on_this_site_are_kept():
    html = render_markdown("![diagram](/static/psirt/img/process.svg)")
    assert '<img src="/static/psirt/img/process.svg" alt="diagram">' in html


def test_headings_are_shifted_below_the_page_title():
    html = render_markdown("# Title\n\n## Section")
    assert "<h1>" not in html
    assert "<h2>Title</h2>" in html and "<h3>Section</h3>" in html


def test_ordinary_markdown_renders():
    html = render_markdown("**bold** _it_ `code`\n\n- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n~~old~~")
    for tag in ("<strong>bold</strong>", "<em>it</em>", "<code>code</code>", "<li>one</li>", "<table>", "<s>old</s>"):
        assert tag in html
    assert "style=" not in html  # table alignment would need inline styles, which the CSP forbids


def test_empty_and_none_render_as_nothing():
    assert render_markdown("") == "" and render_markdown(None) == ""


def test_nul_bytes_do_not_break_rendering():
    assert "a" in render_markdown("a\x00b")


def test_template_filter_renders_safely():
    out = Template("{% load psirt_markdown %}{{ text|markdown }}").render(
        Context({"text": "**x** <script>alert(1)</script>"})
    )
    assert "<strong>x</strong>" in out
    assert "<script>" not in out


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("/static/a.png", True),
        ("img/a.png", True),
        ("//evil.example/a.png", False),
        ("/\\evil.example/a.png", False),
        ("/\t/evil.example", False),
        ("https://evil.example/a.png", False),
        ("data:image/png;base64,AA", False),
        ("", False),
    ],
)
def test_local_url_detection(url, local):
    assert is_local_url(url) is local


def test_escaped_vendor_names_stay_literal():
    html = render_markdown(f"We are {escape_markdown('*Acme* <b>[Corp](javascript:x)</b>')}.")
    assert "<em>" not in html and "<b>" not in html and "href" not in html
    assert "*Acme*" in html


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, attrs))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("<>\"'=/:![]()*_`#-&;\n ajvscriptonerlhfimgd")), max_size=200))
def test_any_input_yields_only_allowed_tags_and_safe_attributes(text):
    parser = _Tags()
    parser.feed(render_markdown(text))
    for tag, attrs in parser.found:
        assert tag in ALLOWED_TAGS
        for name, value in attrs:
            assert not name.startswith("on")
            assert name in {"href", "src", "alt", "title", "rel", "start", "scope"}
            if name == "href":
                assert (value or "").split(":")[0].lower() in {"http", "https", "mailto"} or ":" not in (value or "")
            if name == "src":
                assert is_local_url(value or "")


def test_a_text_is_rendered_once_and_kept_as_it_renders(monkeypatch):
    from psirt.lib import markdown

    markdown.KEPT.clear()
    calls = []
    original = markdown.render_markdown_afresh

    def counted(source):
        calls.append(source)
        return original(source)

    monkeypatch.setattr(markdown, "render_markdown_afresh", counted)
    text = "A **bold** [link](https://example.com) and <script>x</script>"
    first = render_markdown(text)
    assert render_markdown(text) == first
    assert calls == [text]  # the second call was served kept
    assert first == original(text)  # as rendered afresh
    render_markdown(text + "!")
    assert calls == [text, text + "!"]  # another text is another rendering


def test_long_texts_are_not_kept_and_the_kept_ones_are_bounded(monkeypatch):
    from psirt.lib import markdown

    markdown.KEPT.clear()
    long_text = "x" * (markdown.KEPT_MAX_CHARS + 1)
    assert render_markdown(long_text) == markdown.render_markdown_afresh(long_text)
    assert len(markdown.KEPT) == 0
    monkeypatch.setattr(markdown.KEPT, "max_entries", 3)
    for n in range(5):
        render_markdown(f"text {n}")
        assert len(markdown.KEPT) <= 3
