"""The word lists behind the frustration cues (:mod:`handoff.policy.cues`).

Written for a SaaS support desk and short on purpose: every entry is a word customers use
at a service, not about their own work.
"""

from __future__ import annotations

import re

# --- lexicons ---------------------------------------------------------------------------

# Insults and profanity. Matched after undoing the usual disguises (see _disguises), never
# fuzzily: a typo of a swear word is rare, and fuzzy matching would hit ordinary words
# ("garage" for "garbage").
INSULTS = frozenset(
    {
        "asshole", "assholes", "bastard", "bastards", "bullshit", "clown", "clowns", "crap",
        "crappy", "dumb", "dumbest", "fck", "fckin", "fcking", "fuck", "fucked", "fucking",
        "fuckin", "fucks", "fuk", "garbage", "idiot", "idiotic", "idiots", "moron", "moronic",
        "morons", "scam", "scammers", "shit", "shite", "shitty", "stfu", "stupid", "suck",
        "sucked", "sucks", "trash", "wtf",
    }
)  # fmt: skip

# Harsh judgements of the service. Matched exactly, with letters stretched ("uselesssss"),
# and with one typo (two in words of 9+ letters) in words of 6+ letters.
HARSH_WORDS = frozenset(
    {
        "absurd", "disgraceful", "hopeless", "incompetent", "infuriating", "laughable",
        "outrageous", "pathetic", "pointless", "ridiculous", "unacceptable", "useless",
    }
)  # fmt: skip

# Harsh judgements that take more than a word; the label is what the cue reports.
HARSH_PHRASES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (label, re.compile(pattern, re.IGNORECASE))
    for label, pattern in (
        ("worst", r"\bworst\b(?![- ]case)"),  # "in the worst case" is not a judgement
        ("waste of time", r"\bwaste of (?:my |our )?(?:time|money)\b"),
        ("joke", r"\b(?:is|this|what|such|a complete|a total)\s+(?:a\s+)?joke\b"),
        ("not acceptable", r"\b(?:not|isn'?t|wasn'?t) acceptable\b"),
    )
)

# The customer says how they feel. Sentiment scores cannot tell "the sync is failing with a
# fatal error" (VADER: -0.86, a calm bug report) from "I'm really angry" (-0.56); saying so
# can. The label is the feeling as the lexicon names it.
_INTENSIFIER = r"(?:(?:so|really|very|extremely|totally|beyond|absolutely|incredibly|getting)\s+)?"
STATED_EMOTIONS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (label, re.compile(pattern, re.IGNORECASE))
    for label, pattern in (
        (
            "upset",
            rf"\b(?:i'?m|i am|im|i feel|i'?m feeling|i was|we are|we'?re)\s+{_INTENSIFIER}"
            r"(?:angry|annoyed|frustrated|furious|upset|disappointed|pissed(?: off)?|livid|mad"
            r"|irritated|fuming|exasperated|unhappy|outraged)\b",
        ),
        (
            "upsetting",
            rf"\b(?:this|that|it|which)(?:'s| is| was| has been)\s+{_INTENSIFIER}"
            r"(?:annoying|frustrating|infuriating|disappointing|maddening|irritating)\b"
            r"|\bhow (?:annoying|frustrating|disappointing|infuriating)\b",
        ),
        # "I hate to bother you" is politeness, not hatred.
        ("hate", r"\bi (?:really |just |absolutely )?(?:hate|loathe|despise)\b(?! to\b)"),
        ("fed up", r"\bfed up\b"),
        ("sick of", r"\bsick (?:and tired )?of\b"),
        ("had enough", r"\b(?:i'?ve|i have|we'?ve|we have) had enough\b|\bhad enough of\b"),
        ("losing patience", r"\b(?:losing|lost|run(?:ning)? out of) (?:my |all )?patience\b"),
    )
)
