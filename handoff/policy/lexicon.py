"""The word lists behind the frustration cues (:mod:`handoff.policy.cues`).

Written for a SaaS support desk and short on purpose: every entry is a word customers use
at a service, not about their own work.
"""

from __future__ import annotations

import re

# --- lexicons ---------------------------------------------------------------------------

# Insults and profanity; "trash" and "garbage" count only as judgements (INSULTING_PHRASES).
# Matched after undoing the usual disguises (see _disguises), never fuzzily: a typo of a
# swear word is rare, and fuzzy matching would hit ordinary words ("dumb" for "drum").
INSULTS = frozenset(
    {
        "asshole", "assholes", "bastard", "bastards", "bullshit", "clown", "clowns", "crap",
        "crappy", "dumb", "dumbest", "fck", "fckin", "fcking", "fuck", "fucked", "fucking",
        "fuckin", "fucks", "fuk", "idiot", "idiotic", "idiots", "moron", "moronic",
        "morons", "scam", "scammers", "shit", "shite", "shitty", "stfu", "stupid", "suck",
        "sucked", "sucks", "wtf",
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

# The customer says the bot is not helping ("that didn't help", "you're not helping",
# "not what I asked"): whatever the NLU makes of it, the turn failed.
NOT_HELPFUL = re.compile(
    r"\b(?:did(?:n'?t| not)|does(?:n'?t| not)|do(?:n'?t| not)|is(?:n'?t| not)|was(?:n'?t| not)"
    r"|are(?:n'?t| not)|you'?re not|not|never|no)\s+(?:really\s+|very\s+|at all\s+)?"
    r"(?:help(?:s|ed|ing|ful)?|answer(?:ed|ing)? (?:my|the) question|useful)\b"
    r"|\bnot what i (?:asked|meant|wanted|need(?:ed)?)\b"
    r"|\b(?:that'?s|that is|this is) not (?:it|right|the answer)\b"
    r"|\bwrong answer\b|\bno help\b|\b(?:useless|unhelpful|pointless) (?:answer|reply|bot)\b",
    re.IGNORECASE,
)

# Judgements with "trash" or "garbage" (as insults they hit "put the trash out").
INSULTING_PHRASES = re.compile(
    r"\b(?:is|are|this|that|what|such|total|complete|absolute|utter|pure|piece of)\s+"
    r"(?:a\s+)?(?:trash|garbage)\b(?!\s+(?:bin|can|day|bag|collection|truck|out))"
    r"|\b(?:trash|garbage) (?:service|support|app|product|company|bot|software|update)\b",
    re.IGNORECASE,
)

# A long wait or a problem that keeps coming back.
LONG_WAIT = re.compile(
    "|".join(
        (
            r"\bwait(?:s|ed|ing)?\b[^.!?]{0,25}?\b(?:minutes?|hours?|days?|weeks?|months?|ages"
            r"|forever|so long|too long|a long time)\b",
            r"\bfor (?:days|weeks|months|ages|hours|so long)\b",
            r"\b(?:minutes?|hours?|ages|forever) on hold\b|\bon hold for\b",
            r"\bstill (?:haven'?t|hasn'?t|have not|has not|not|no|nothing|waiting|broken"
            r"|can'?t|cannot|doesn'?t|don'?t|isn'?t|won'?t|didn'?t)\b",
            r"\bagain and again\b|\bover and over\b|\btime after time\b",
            r"\b(?:second|third|fourth|fifth|\d+(?:st|nd|rd|th)|umpteenth|hundredth) time\b",
            r"\b(?:\d+|three|four|five|several|many|multiple|countless) times\b",
            r"\bhow many times\b",
            r"\b(?:no ?one|no-one|nobody)\b[^.!?]{0,20}?\b(?:help\w*|answer\w*|repl\w*"
            r"|respond\w*|cares|got back|gets back|called)\b",
            r"\b(?:no|zero) (?:response|reply|answer)\b",
            r"\bsince (?:yesterday|last \w+|(?:mon|tues|wednes|thurs|fri|satur|sun)day"
            r"|\d+ (?:days|weeks|months))\b",
            r"\b(?:broken|down|failing|failed|fails|crash\w*|not working|wrong|happen\w*|stuck"
            r"|locked out|charged) again\b",
            r"\banother (?:error|bug|crash|outage|failure)\b",
            r"\bkeeps? (?:happening|failing|crashing|breaking)\b",
        )
    ),
    re.IGNORECASE,
)
