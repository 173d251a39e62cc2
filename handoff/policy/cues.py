"""The signs of frustration that a sentiment score misses, each found by a small pure function.

VADER scores words it knows; it reads "This is ridiculous, I have been waiting for 3 weeks
and nobody helps me!!" as positive ("helps"), misses typos ("rediculous") and obfuscated
swearing ("f***"), and takes sarcastic praise ("great, just great, another error") at face
value. The lexicons here were written for a SaaS support desk; they are short on purpose:
every entry is a word customers use at a service, not about their own work.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Sequence
from difflib import SequenceMatcher

from handoff.policy.lexicon import (
    HARSH_PHRASES,
    HARSH_WORDS,
    INSULTING_PHRASES,
    INSULTS,
    LONG_WAIT,
    NOT_HELPFUL,
    STATED_EMOTIONS,
)

__all__ = [
    "HARSH_PHRASES",
    "HARSH_WORDS",
    "INSULTS",
    "STATED_EMOTIONS",
    "edit_distance",
    "harsh_words",
    "has_repeated_punctuation",
    "insults",
    "is_sarcastic",
    "is_shouting",
    "mentions_long_wait",
    "normalize",
    "repeats",
    "says_not_helpful",
    "squeeze",
    "stated_emotions",
]

# Sarcasm: praise that opens a message which then reports a problem ...
_PRAISE = (
    r"(?:great|wonderful|fantastic|brilliant|perfect|awesome|amazing|lovely|terrific|superb"
    r"|excellent|marvell?ous|splendid|nice|cool)"
)
_OPENING_PRAISE = re.compile(
    rf"^\W*(?:(?:oh|wow|well|yeah|yay|ah|just|so|really)\W+)*{_PRAISE}\b", re.IGNORECASE
)
_JUST_PRAISE = re.compile(rf"\b(?:just|oh|how|simply) {_PRAISE}\b", re.IGNORECASE)
_PROBLEM = re.compile(
    r"\b(?:errors?|broken|broke|crash\w*|fail(?:s|ed|ing|ure)?|bugs?|buggy|outage|wrong|lost"
    r"|deleted|missing|stuck|frozen|freez\w*|locked out|charged twice"
    r"|(?:is|it's|its|was|went|goes|still) down|(?:not|isn'?t|stopped|never) working"
    r"|(?:doesn'?t|does not|didn'?t|won'?t) work"
    r"|another (?:error|bug|crash|outage|failure|problem|issue)"
    r"|can'?t (?:log ?in|sign in|access|open|save|export|pay|download|upload))\b",
    re.IGNORECASE,
)
# ... unless the problem is over ("great, the error is gone") or the praise is sincere and
# the problem comes after a "but" ("nice, but I still get an error": a report, not sarcasm).
_RESOLVED = re.compile(
    r"\b(?:works?|worked|working|fixed|solved|resolved|gone|sorted|helped|anymore|no longer"
    r"|back up)\b",
    re.IGNORECASE,
)
_CONTRAST = re.compile(r"\b(?:but|though|although|however)\b", re.IGNORECASE)
# ... or a phrase that is sarcastic on its own.
_SARCASTIC_PHRASE = re.compile(
    r"\b(?:thanks? (?:a lot )?for nothing|yeah,? right|just what i needed"
    r"|what a surprise|love it when)\b",
    re.IGNORECASE,
)

# Runs of !/?: three or more ("!!!", "???"), or any run mixing them ("?!", "!?!").
_PUNCTUATION = re.compile(r"[!?]{3,}|[!?]*(?:!\?|\?!)[!?]*")

# Leetspeak and symbol substitutions seen in disguised swearing ("sh1t", "$hit", "@ss").
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "$": "s",
                       "@": "a", "!": "i"})  # fmt: skip
_MASK = re.compile(r"[*#]")  # "f***", "sh*t", "f#ck"
# Stripped from both ends of a token; curly quotes written as escapes (they look like ').
_EDGES = ".,;:!?\"'()[]{}<>«»\u201c\u201d\u2018\u2019…-_/\\"
_NEGATORS = frozenset({"not", "isn't", "isnt", "wasn't", "wasnt", "never", "no"})
_LETTER_RUN = re.compile(r"(.)\1+")
_ALPHA_WORD = re.compile(r"[A-Za-z]+")
_NOT_WORD = re.compile(r"[^0-9a-z]+")


def squeeze(word: str) -> str:
    """Collapse runs of one letter: "uselesssss" and "useless" both become "useles"."""
    return _LETTER_RUN.sub(r"\1", word)


_TOKENS_KEPT = 8192  # the tokens whose cue lookups are kept (a few hundred kB)
_SQUEEZED_INSULTS = {squeeze(word): word for word in INSULTS}
_SQUEEZED_HARSH = {squeeze(word): word for word in HARSH_WORDS}
_FUZZY_HARSH = tuple(word for word in HARSH_WORDS if len(word) >= 6)


# --- the cues ---------------------------------------------------------------------------


def is_shouting(text: str, *, ratio: float, min_letters: int) -> bool:
    """Mostly capitals, ignoring acronyms ("my PDF has the wrong VAT ID" is not shouting).

    Words under 3 letters never count ("I", "OK", "ID"); all-caps words of 3-4 letters
    (PDF, API, HTML) count only when the message has no lowercase letter at all, since a
    message typed entirely in capitals is shouting whatever its word lengths ("HELP ME NOW").
    """
    words = [word for word in _ALPHA_WORD.findall(text) if len(word) >= 3]
    if any(char.islower() for char in text):
        words = [word for word in words if not (word.isupper() and len(word) <= 4)]
    letters = sum(len(word) for word in words)
    upper = sum(1 for word in words for char in word if char.isupper())
    return upper >= min_letters and upper >= ratio * letters


def has_repeated_punctuation(text: str) -> bool:
    return _PUNCTUATION.search(text) is not None


def insults(text: str) -> list[str]:
    """The insults and swear words in ``text`` (as the lexicon spells them)."""
    found: list[str] = []
    for _, token in _tokens(text):
        word = _insult(token)
        if word is not None and word not in found:
            found.append(word)
    phrase = INSULTING_PHRASES.search(text)
    if phrase is not None:
        found.append("garbage" if "garbage" in phrase.group(0).lower() else "trash")
    return found


def says_not_helpful(text: str) -> bool:
    """The customer says the bot is not helping ("that didn't help at all")."""
    return NOT_HELPFUL.search(text) is not None


def harsh_words(text: str) -> list[str]:
    """Harsh judgements of the service, as the lexicon spells them ("rediculous" -> ridiculous)."""
    found: list[str] = []
    for previous, token in _tokens(text):
        if previous in _NEGATORS:  # "the answer was not useless"
            continue
        word = _harsh(token)
        if word is not None and word not in found:
            found.append(word)
    for label, pattern in HARSH_PHRASES:
        if pattern.search(text) and label not in found:
            found.append(label)
    return found


def stated_emotions(text: str) -> list[str]:
    """How the customer says they feel ("I'm really annoyed" -> upset)."""
    return [label for label, pattern in STATED_EMOTIONS if pattern.search(text)]


def is_sarcastic(text: str) -> bool:
    """Praise that comes with a problem ("oh wonderful, it's broken again")."""
    if _SARCASTIC_PHRASE.search(text):
        return True
    if not (_OPENING_PRAISE.search(text) or _JUST_PRAISE.search(text)):
        return False
    if _CONTRAST.search(text):
        return False
    # "not working" names a problem, yet contains "working": judge resolution without it.
    problems = _PROBLEM.findall(text)
    remainder = _PROBLEM.sub(" ", text)
    return bool(problems) and not _RESOLVED.search(remainder)


def mentions_long_wait(text: str) -> bool:
    return LONG_WAIT.search(text) is not None


def repeats(text: str, previous_texts: Sequence[str], *, similarity: float, min_chars: int) -> bool:
    """``text`` is one of the customer's earlier messages again, give or take a few letters."""
    current = normalize(text)
    if len(current) < min_chars:
        return False
    for earlier in previous_texts:
        before = normalize(earlier)
        if before == current:
            return True
        if len(before) >= min_chars and _similar(current, before, similarity):
            return True
    return False


def _similar(current: str, before: str, similarity: float) -> bool:
    """``ratio() > similarity``, its cheap upper bounds first: most texts differ enough for
    them to tell, and ratio() alone was a twentieth of a turn's CPU (py-spy)."""
    matcher = SequenceMatcher(None, current, before)
    return (
        matcher.real_quick_ratio() > similarity
        and matcher.quick_ratio() > similarity
        and matcher.ratio() > similarity
    )


def normalize(text: str) -> str:
    """Lowercase letters and digits and single spaces: "Where's my PDF?!" -> "where s my pdf"."""
    return _NOT_WORD.sub(" ", text.lower()).strip()


# --- matching words -------------------------------------------------------------------


def _tokens(text: str) -> Iterator[tuple[str | None, str]]:
    """Each lowercased token with the one before it, edge punctuation removed."""
    previous: str | None = None
    for raw in text.lower().split():
        token = raw.strip(_EDGES)
        if token:
            yield previous, token
            previous = token


# Per token, cached: a pure function of the word, and most words of a support chat are the
# same few hundred ("my", "order", "password"), so a message's cues mostly cost lookups.
@functools.lru_cache(maxsize=_TOKENS_KEPT)
def _insult(token: str) -> str | None:
    if _MASK.search(token):
        return _unmasked(token)
    for word in _disguises(token):
        match = _SQUEEZED_INSULTS.get(squeeze(word))
        if match is not None:
            return match
    return None


def _unmasked(token: str) -> str | None:
    """ "f***" or "f**king": each masking character hides one letter of a lexicon insult."""
    if not any(char.isalpha() for char in token):
        return None
    pattern = re.compile("".join("[a-z]" if _MASK.fullmatch(c) else re.escape(c) for c in token))
    for word in sorted(INSULTS):
        if pattern.fullmatch(word):
            return word
    return None


def _disguises(token: str) -> list[str]:
    """The token, and the token with leetspeak undone ("sh1t" -> "shit")."""
    undone = token.translate(_LEET)
    return [token] if undone == token else [token, undone]


@functools.lru_cache(maxsize=_TOKENS_KEPT)  # as _insult
def _harsh(token: str) -> str | None:
    if not token.isalpha():
        return None
    match = _SQUEEZED_HARSH.get(squeeze(token))
    if match is not None or len(token) < 6:
        return match
    for word in _FUZZY_HARSH:
        # The first letter must match, or "competent" would be a typo of "incompetent".
        # Words of up to 8 letters allow one dropped, doubled or swapped letter, but not a
        # changed one: "homeless" is a word, not a typo of "hopeless". Longer words allow
        # two typos of any kind ("rediculous").
        short = len(word) <= 8
        allowed = 1 if short else 2
        if (
            token[0] == word[0]
            and abs(len(token) - len(word)) <= allowed
            and edit_distance(token, word, limit=allowed, substitution=2 if short else 1) <= allowed
        ):
            return word
    return None


def edit_distance(a: str, b: str, *, limit: int, substitution: int = 1) -> int:
    """Optimal-string-alignment distance (a swap of neighbours is one edit; a changed letter
    costs ``substitution``), or limit + 1 once it is certain to exceed ``limit``."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else substitution
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]
