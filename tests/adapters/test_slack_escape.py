"""Text crossing into and out of Slack: customers' words made inert as mrkdwn, agents'
replies read back as plain text, and long text cut to Slack's limits without loss."""

from __future__ import annotations

import random
import re

import pytest

from bot.adapters.slack.escape import ZWJ, ZWSP, clean, escape_mrkdwn, mrkdwn, plain_text
from bot.adapters.slack.markup import mentioned_users, to_plain_text
from bot.adapters.slack.sizing import (
    ELLIPSIS,
    SECTION_TEXT_LIMIT,
    clip,
    split_text,
    utf16_length,
)

FORMATTING = "*_~`"


def visible(escaped: str) -> str:
    """What a reader sees: zero-width characters gone, entities decoded."""
    shown = escaped.replace(ZWSP, "").replace(ZWJ, "")
    return shown.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def assert_inert(escaped: str) -> None:
    """Nothing Slack would parse: no <...> forms, no bare broadcasts, no formatting marks
    without zero-width spaces around them, no line starting with a quote mark."""
    assert "<" not in escaped
    assert ">" not in escaped
    assert not re.search(r"@(here|channel|everyone)", escaped, re.IGNORECASE)
    for index, char in enumerate(escaped):
        if char in FORMATTING:
            assert escaped[index - 1 : index] == ZWSP, (escaped, index)
            assert escaped[index + 1 : index + 2] == ZWSP, (escaped, index)
    for line in escaped.split("\n"):
        assert not line.lstrip(" \t").startswith("&gt;"), line


# --- escape_mrkdwn -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<!channel> help", "&lt;!channel&gt; help"),
        ("<!here>", "&lt;!here&gt;"),
        ("<!everyone>", "&lt;!everyone&gt;"),
        ("ask <@U123ABC>", "ask &lt;@U123ABC&gt;"),
        ("see <#C123|general>", "see &lt;#C123|general&gt;"),
        ("<!subteam^S0123|@support>", "&lt;!subteam^S0123|@support&gt;"),
        ("<http://evil.example|click here>", "&lt;http://evil.example|click here&gt;"),
        ("<mailto:x@evil.example|Support>", "&lt;mailto:x@evil.example|Support&gt;"),
    ],
)
def test_angle_bracket_forms_cannot_mention_or_link(text: str, expected: str) -> None:
    escaped = escape_mrkdwn(text)

    assert escaped == expected
    assert_inert(escaped)


@pytest.mark.parametrize("word", ["@here", "@channel", "@everyone", "@HERE", "@Channel"])
def test_bare_broadcasts_get_a_joiner_after_the_at(word: str) -> None:
    escaped = escape_mrkdwn(f"hey {word}, anyone?")

    assert escaped == f"hey @{ZWJ}{word[1:]}, anyone?"
    assert_inert(escaped)


@pytest.mark.parametrize("text", ["@here_", "@channelü", "@everyone*", "x@hereafter"])
def test_broadcasts_are_defused_whatever_follows_them(text: str) -> None:
    # Where a word ends is the client's call: "@here" before a zero-width space or a
    # letter Slack does not count as one must not ping either.
    escaped = escape_mrkdwn(text)

    assert_inert(escaped)
    assert visible(escaped) == text


@pytest.mark.parametrize(
    "text",
    [
        "*bold*",
        "_italic_",
        "~strike~",
        "`code`",
        "```\nblock\n```",
        "**double** and __under__",
        "order_id_123 and john_doe@example.com",
        "*_~`mixed`~_*",
    ],
)
def test_formatting_marks_are_wrapped_in_zero_width_spaces(text: str) -> None:
    escaped = escape_mrkdwn(text)

    assert_inert(escaped)
    assert visible(escaped) == text


@pytest.mark.parametrize(
    "text",
    ["> quoted", "  > indented quote", ">>> quote the rest", "first\n> second", "\n>"],
)
def test_lines_starting_with_a_quote_mark_are_no_quotes(text: str) -> None:
    escaped = escape_mrkdwn(text)

    assert_inert(escaped)
    assert visible(escaped) == text


def test_a_quote_mark_inside_a_line_is_only_escaped() -> None:
    assert escape_mrkdwn("a > b") == "a &gt; b"


def test_ampersands_and_text_that_is_already_escaped_stay_literal() -> None:
    escaped = escape_mrkdwn("Tom & Jerry &lt;!channel&gt; &amp;")

    assert escaped == "Tom &amp; Jerry &amp;lt;!channel&amp;gt; &amp;amp;"
    assert visible(escaped) == "Tom & Jerry &lt;!channel&gt; &amp;"


@pytest.mark.parametrize(
    "text",
    [
        "Grüße aus Köln 🇩🇪",
        "注文番号はどこですか\uff1f",  # a full-width question mark, as Japanese writes it
        "مرحبا، أين طلبي؟",
        "Привет! 👋🏽 👨‍👩‍👧‍👦",
        "e\u0301te\u0301 (combining accents)",
    ],
)
def test_unicode_text_is_kept_as_it_is(text: str) -> None:
    assert escape_mrkdwn(text) == text


def test_control_characters_bidi_overrides_and_lone_surrogates_are_cleaned() -> None:
    text = "line1\r\nline2\rline3\x00\x07\x1b[31m\u202efdp.exe\ud800\ttab"

    cleaned = clean(text)

    assert cleaned == "line1\nline2\nline3[31mfdp.exe\ufffd\ttab"
    assert escape_mrkdwn(text) == cleaned
    cleaned.encode("utf-8")  # a lone surrogate would make Slack refuse the whole request


def test_a_random_mix_of_dangerous_characters_is_always_inert() -> None:
    alphabet = [*"<>&@!*_~`|#:\n \t", "@here", "@channel", "<!", "<@U1>", "> ", "ü", "😀"]
    rng = random.Random(20240601)  # fixed: the same cases on every run
    for _ in range(500):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        escaped = escape_mrkdwn(text)
        assert_inert(escaped)
        assert visible(escaped) == clean(text)


def test_very_long_text_is_escaped_whole() -> None:
    text = "<!channel> *x* " * 10_000

    escaped = escape_mrkdwn(text)

    assert_inert(escaped)
    assert visible(escaped) == text


# --- text objects --------------------------------------------------------------------------


def test_plain_text_objects_carry_the_words_verbatim() -> None:
    words = "<!channel> *bold* @here <http://evil|x> :smile:"

    assert plain_text(words) == {"type": "plain_text", "text": words, "emoji": False}


@pytest.mark.parametrize("blank", ["", "   ", "\n\t", "\x00"])
def test_plain_text_refuses_blank_text(blank: str) -> None:
    with pytest.raises(ValueError, match="empty"):
        plain_text(blank)


def test_mrkdwn_objects_are_verbatim_so_slack_links_nothing_by_itself() -> None:
    assert mrkdwn("*Customer*") == {"type": "mrkdwn", "text": "*Customer*", "verbatim": True}


# --- Slack markup read back as plain text --------------------------------------------------


@pytest.mark.parametrize(
    ("markup", "plain"),
    [
        ("a &lt; b &amp;&amp; c &gt; d", "a < b && c > d"),
        ("&amp;lt; stays", "&lt; stays"),
        ("ask <@U0AGENT2>", "ask @Bob"),
        ("ask <@U0NOBODY>", "ask @U0NOBODY"),
        ("ask <@U0OLD|olduser>", "ask @olduser"),
        ("see <#C0123|general>", "see #general"),
        ("see <#C0123>", "see #C0123"),
        ("<!here> and <!channel>", "@here and @channel"),
        ("<!subteam^S01|@support>", "@support"),
        ("<!subteam^S01>", "@group"),
        ("<!date^1700000000^{date}|Nov 14th>", "Nov 14th"),
        (
            "read <https://example.com/faq?a=1&amp;b=2|our FAQ>",
            "read our FAQ (https://example.com/faq?a=1&b=2)",
        ),
        ("go to <https://example.com>", "go to https://example.com"),
        ("<https://example.com|https://example.com>", "https://example.com"),
        ("mail <mailto:help@example.com|help@example.com>", "mail help@example.com"),
        ("*bold* stays as typed", "*bold* stays as typed"),
    ],
)
def test_agents_markup_becomes_plain_text(markup: str, plain: str) -> None:
    assert to_plain_text(markup, names={"U0AGENT2": "Bob"}) == plain


def test_mentioned_users_are_found_for_the_name_lookup() -> None:
    assert mentioned_users("hi <@U0AGENT1>, <@W0ENTERPRISE|x> and <#C1> <!here>") == {
        "U0AGENT1",
        "W0ENTERPRISE",
    }


# --- sizes ---------------------------------------------------------------------------------


def test_lengths_are_counted_in_utf16_code_units() -> None:
    assert utf16_length("abc") == 3
    assert utf16_length("😀") == 2
    assert utf16_length("é") == 1


def test_clip_keeps_short_text_and_marks_what_it_cuts() -> None:
    assert clip("short", 10) == "short"
    clipped = clip("a" * 100, 10)
    assert clipped == "a" * 9 + ELLIPSIS
    assert utf16_length(clip("😀" * 100, 11)) <= 11


def test_clip_never_splits_an_emoji_sequence() -> None:
    family = "👨\u200d👩\u200d👧"
    clipped = clip("x" + family * 10, 6)

    assert clipped in {"x" + ELLIPSIS, "x" + family + ELLIPSIS}


def test_split_text_loses_nothing_but_the_breaks_it_cuts_at() -> None:
    words = [f"word{n}" for n in range(3000)]
    text = " ".join(words)

    pieces = split_text(text, SECTION_TEXT_LIMIT)

    assert len(pieces) > 1
    assert all(utf16_length(piece) <= SECTION_TEXT_LIMIT for piece in pieces)
    assert " ".join(pieces).split() == words


def test_split_text_prefers_line_breaks() -> None:
    text = "\n".join(["x" * 60] * 100)

    pieces = split_text(text, 1000)

    assert all(piece.endswith("x") and piece.startswith("x") for piece in pieces)
    assert sum(piece.count("x") for piece in pieces) == 6000


def test_split_text_cuts_unbroken_text_between_whole_characters() -> None:
    text = ("a\u0301" + "😀" + "👍🏽") * 700  # accents, astral emoji, skin tones; no spaces

    pieces = split_text(text, 1000)

    assert "".join(pieces) == text
    for piece in pieces:
        assert utf16_length(piece) <= 1000
        assert not piece.startswith(("\u0301", "\U0001f3fd"))


def test_split_text_of_blank_text_gives_nothing() -> None:
    assert split_text("  \n ", 10) == []
