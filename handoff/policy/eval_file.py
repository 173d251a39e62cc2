"""Reading a labelled-conversations file (schema: the top of ``eval/conversations.yml``).

Every problem is reported with its line, all of them at once, as an
:class:`~handoff.policy.errors.EvaluationFileError`; a bad file never ends in a traceback.
The file is read node by node (``yaml.compose``) rather than loaded, so each value keeps its
line, and customer texts keep their spelling: YAML 1.1 would turn a bare ``no`` into False.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

import yaml
from yaml.constructor import ConstructorError, SafeConstructor

from handoff.policy.errors import EvaluationFileError, did_you_mean, one_of
from handoff.policy.labelled import Expected, LabelledConversation, LabelledSet, LabelledTurn
from handoff.policy.model import HANDOFF_PRIORITY, Action, IntentGuess, ReasonCode

SCHEMA_VERSION = 1
NLU_DOWN = "down"

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"

_TOP_KEYS = frozenset({"version", "conversations"})
_CONVERSATION_KEYS = frozenset({"id", "about", "turns"})
_TURN_KEYS = frozenset({"text", "nlu", "similarity", "person_requested", "expect", "reason"})


def load_labelled_set(path: Path) -> LabelledSet:
    """Read and check ``path``. Raises :class:`EvaluationFileError`."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise EvaluationFileError([f"{path}: cannot read the file ({exc})"]) from None
    return parse_labelled_set(text, source=str(path))


def parse_labelled_set(text: str, *, source: str) -> LabelledSet:
    """Check ``text`` (the contents of ``source``). Raises :class:`EvaluationFileError`."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise EvaluationFileError([f"{source}:{line}: not valid YAML: {exc.problem}"]) from None
    except yaml.YAMLError as exc:
        raise EvaluationFileError([f"{source}:1: not valid YAML: {exc}"]) from None
    reader = _Reader(source)
    conversations = reader.top(root)
    if reader.problems:
        raise EvaluationFileError(reader.problems)
    return LabelledSet(source=source, conversations=conversations)


class _Reader:
    """Turns the node tree into values, collecting one line per problem."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[str] = []
        self._scalars = SafeConstructor()

    def problem(self, node: yaml.Node, message: str) -> None:
        self.problems.append(f"{self.source}:{node.start_mark.line + 1}: {message}")

    # --- the structure ------------------------------------------------------------------

    def top(self, root: yaml.Node | None) -> tuple[LabelledConversation, ...]:
        if root is None:
            self.problems.append(f"{self.source}:1: the file is empty; expected `conversations:`")
            return ()
        keys = self.mapping(root, "the file", required={"conversations"}, known=_TOP_KEYS)
        if keys is None:
            return ()
        if "version" in keys:
            version = keys["version"]
            if not (_is_scalar(version, _INT) and version.value == str(SCHEMA_VERSION)):
                self.problem(version, f"version: expected {SCHEMA_VERSION}")
        items = self.sequence(keys.get("conversations"), "conversations")
        conversations: list[LabelledConversation] = []
        seen: dict[str, int] = {}
        for number, node in enumerate(items, start=1):
            conversation = self.conversation(node, f"conversation {number}")
            if conversation is None:
                continue
            if conversation.id in seen:
                self.problem(
                    node,
                    f"conversation {conversation.id!r}: id already used on line "
                    f"{seen[conversation.id]}",
                )
            seen.setdefault(conversation.id, conversation.line)
            conversations.append(conversation)
        if not items and "conversations" in keys:
            self.problem(keys["conversations"], "conversations: expected at least one")
        return tuple(conversations)

    def conversation(self, node: yaml.Node, where: str) -> LabelledConversation | None:
        keys = self.mapping(node, where, required=_CONVERSATION_KEYS, known=_CONVERSATION_KEYS)
        if keys is None:
            return None
        ident = self.text(keys.get("id"), f"{where}: id", allow_empty=False)
        if ident is not None:
            where = f"conversation {ident!r}"
        about = self.text(keys.get("about"), f"{where}: about", allow_empty=False)
        items = self.sequence(keys.get("turns"), f"{where}: turns")
        if not items and "turns" in keys:
            self.problem(keys["turns"], f"{where}: turns: expected at least one turn")
        turns: list[LabelledTurn] = []
        handoff_at: int | None = None
        for number, turn_node in enumerate(items, start=1):
            turn = self.turn(turn_node, f"{where} turn {number}")
            if handoff_at is not None:
                self.problem(
                    turn_node,
                    f"{where} turn {number}: comes after the expected handoff at turn "
                    f"{handoff_at}; a conversation ends at its handoff",
                )
            if turn is not None:
                turns.append(turn)
                if turn.expected.action is Action.HANDOFF and handoff_at is None:
                    handoff_at = number
        if ident is None or about is None or len(turns) != len(items):
            return None
        return LabelledConversation(
            line=node.start_mark.line + 1, id=ident, about=about, turns=tuple(turns)
        )

    def turn(self, node: yaml.Node, where: str) -> LabelledTurn | None:
        keys = self.mapping(node, where, required={"text", "expect"}, known=_TURN_KEYS)
        if keys is None:
            return None
        problems = len(self.problems)
        text = self.text(keys.get("text"), f"{where}: text", allow_empty=True)
        ranking = self.ranking(keys["nlu"], f"{where}: nlu") if "nlu" in keys else ()
        similarity = None
        if "similarity" in keys:
            similarity = self.number(keys["similarity"], f"{where}: similarity", "a similarity")
        person = False
        if "person_requested" in keys:
            person = bool(self.boolean(keys["person_requested"], f"{where}: person_requested"))
        expected = self.expected(keys, where)
        if len(self.problems) > problems or text is None or expected is None:
            return None
        return LabelledTurn(
            line=node.start_mark.line + 1,
            text=text,
            ranking=ranking,
            similarity=similarity,
            person_requested=person,
            expected=expected,
        )

    def expected(self, keys: dict[str, yaml.Node], where: str) -> Expected | None:
        node = keys.get("expect")
        word = self.text(node, f"{where}: expect", allow_empty=False)
        if word is None or node is None:
            return None
        actions = [action.value for action in Action]
        if word not in actions:
            self.problem(
                node,
                f"{where}: expect: unknown action {word!r}{did_you_mean(word, actions)} "
                f"(expected {one_of(actions)})",
            )
            return None
        action = Action(word)
        reason_node = keys.get("reason")
        if action is Action.HANDOFF:
            reason = self.handoff_reason(reason_node, node, where)
            return None if reason is None else Expected(action, reason)
        if reason_node is not None:
            self.problem(reason_node, f"{where}: reason: only a handoff has a reason")
            return None
        return Expected(action)

    def handoff_reason(
        self, node: yaml.Node | None, expect: yaml.Node, where: str
    ) -> ReasonCode | None:
        reasons = [code.value for code in HANDOFF_PRIORITY]
        if node is None:
            self.problem(expect, f"{where}: a handoff needs a `reason:` ({one_of(reasons)})")
            return None
        reason = self.text(node, f"{where}: reason", allow_empty=False)
        if reason is not None and reason not in reasons:
            self.problem(
                node,
                f"{where}: reason: unknown handoff reason {reason!r}"
                f"{did_you_mean(reason, reasons)} (expected {one_of(reasons)})",
            )
            return None
        return None if reason is None else ReasonCode(reason)

    def ranking(self, node: yaml.Node, where: str) -> tuple[IntentGuess, ...] | None:
        if _is_scalar(node, _STR) and node.value == NLU_DOWN:
            return None
        if not isinstance(node, yaml.MappingNode):
            self.problem(
                node,
                f"{where}: expected `{NLU_DOWN}` or a mapping of intent: confidence, "
                "e.g. {greet: 0.93, thanks: 0.04}",
            )
            return ()
        guesses: list[IntentGuess] = []
        for key, value in node.value:
            name = self.text(key, f"{where}: intent name", allow_empty=False)
            confidence = self.number(value, f"{where}: {key.value}")
            if name is None or confidence is None:
                continue
            if any(guess.name == name for guess in guesses):
                self.problem(key, f"{where}: intent {name!r} given twice")
                continue
            guesses.append(IntentGuess(name, confidence))
        # Best first, as the NLU ranks them; ties keep the file's order.
        return tuple(sorted(guesses, key=lambda guess: -guess.confidence))

    # --- scalars and containers ----------------------------------------------------------

    def mapping(
        self,
        node: yaml.Node | None,
        where: str,
        *,
        required: Iterable[str],
        known: frozenset[str],
    ) -> dict[str, yaml.Node] | None:
        if not isinstance(node, yaml.MappingNode):
            if node is not None:
                self.problem(node, f"{where}: expected a mapping with {one_of(sorted(known))}")
            return None
        found: dict[str, yaml.Node] = {}
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else None
            if name is None or name not in known:
                self.problem(
                    key,
                    f"{where}: unknown key {name!r}{did_you_mean(name or '', known)} "
                    f"(expected {one_of(sorted(known))})",
                )
            elif name in found:
                self.problem(key, f"{where}: {name} given twice")
            else:
                found[name] = value
        for name in sorted(set(required) - found.keys()):
            self.problem(node, f"{where}: missing `{name}:`")
        return found

    def sequence(self, node: yaml.Node | None, where: str) -> list[yaml.Node]:
        if node is None:
            return []
        if not isinstance(node, yaml.SequenceNode):
            self.problem(node, f"{where}: expected a list")
            return []
        return list(node.value)

    def text(self, node: yaml.Node | None, where: str, *, allow_empty: bool) -> str | None:
        if node is None:
            return None
        # Any plain scalar is text as written: "no", "42" and "null" are things customers say.
        if not isinstance(node, yaml.ScalarNode):
            self.problem(node, f"{where}: expected text")
            return None
        if not allow_empty and not node.value.strip():
            self.problem(node, f"{where}: must not be empty")
            return None
        return str(node.value)

    def number(self, node: yaml.Node, where: str, what: str = "a confidence") -> float | None:
        if _is_scalar(node, _INT) or _is_scalar(node, _FLOAT):
            assert isinstance(node, yaml.ScalarNode)
            value = float(self._scalars.construct_yaml_float(node))
            if math.isfinite(value) and 0.0 <= value <= 1.0:
                return value
        self.problem(node, f"{where}: expected {what} from 0 to 1")
        return None

    def boolean(self, node: yaml.Node, where: str) -> bool | None:
        if _is_scalar(node, _BOOL):
            assert isinstance(node, yaml.ScalarNode)
            try:
                return bool(self._scalars.construct_yaml_bool(node))
            except ConstructorError:
                pass
        self.problem(node, f"{where}: expected true or false")
        return None


def _is_scalar(node: yaml.Node | None, tag: str) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == tag
