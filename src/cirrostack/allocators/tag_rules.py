"""Storage rule tags (CloudStack 4.19, #7489): a pool tag that is a JavaScript expression over
the disk offering's tags, true when the pool suits the offering.

CloudStack runs the rule in a JavaScript engine with ``tags`` bound to the offering's tags
split on commas, for at most ``storage.tag.rule.execution.timeout`` ms; a result that is not
the boolean ``true`` (an error, a timeout, a number) means "no match". cirrostack runs no
JavaScript: it parses a documented subset of expressions and evaluates that, so a rule can
neither run arbitrary code nor loop. The subset (docs/allocators.md)::

    expression  := or
    or          := and ("||" and)*
    and         := unary ("&&" unary)*
    unary       := "!" unary | comparison
    comparison  := relational (("===" | "!==" | "==" | "!=") relational)*
    relational  := operand (("<=" | ">=" | "<" | ">") operand)*
    operand     := string | ["-"] number | true | false | null | undefined | "(" expression ")"
                 | tags | tags.length | tags[<integer>] | tags.includes(<string>)
                 | tags.indexOf(<string>)

with an optional trailing ``;``. Values follow JavaScript: ``&&`` and ``||`` answer one of
their operands, ``!`` negates truthiness (an empty string, 0, null and undefined are false;
``tags`` itself is true), ``tags[i]`` past the end is undefined, strings compare case-
sensitively. One difference: ``==`` and ``!=`` do not convert types (``'1' == 1`` is false,
as with ``===``); ``null == undefined`` is true. ``<``/``>`` compare two numbers or two
strings, anything else is false.

``parse`` raises ``NotEvaluated`` for a rule outside the subset (the verdict says so, and
createStoragePool refuses it); ``Rule.matches`` raises ``RuleTimeout`` past its deadline.
"""

from __future__ import annotations

import functools
import operator
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

#: Longest rule accepted (``storage_pool_tags.tag`` is 255 characters).
MAX_LENGTH = 255

Value = str | float | bool | None | tuple[str, ...]
#: A compiled node: the offering's tags and a deadline (``time.monotonic``) → a value.
Node = Callable[[tuple[str, ...], float], Value]


class NotEvaluated(ValueError):
    """The rule is not in the subset cirrostack evaluates; the message says what is not."""


class RuleTimeout(RuntimeError):
    """The rule ran past ``storage.tag.rule.execution.timeout``."""


_TOKEN = re.compile(
    r"""\s*(?:
      (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
    | (?P<number>\d+(?:\.\d+)?)
    | (?P<name>[A-Za-z_$][A-Za-z0-9_$]*)
    | (?P<op>===|!==|==|!=|<=|>=|&&|\|\||[<>!()\[\].;-])
    )""",
    re.VERBOSE,
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0"}
_CONSTANTS: dict[str, Value] = {"true": True, "false": False, "null": None, "undefined": None}


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    at: int


def _tokens(text: str) -> list[_Token]:
    """The tokens of ``text``; an unknown character ends them as a ``bad`` token, so the
    parser reports the first construct it does not support, wherever that is."""
    found: list[_Token] = []
    at = 0
    while text[at:].strip():
        match = _TOKEN.match(text, at)
        if match is None or match.lastgroup is None:
            where = at + len(text[at:]) - len(text[at:].lstrip())
            found.append(_Token("bad", text[where], where))
            break
        kind = match.lastgroup
        found.append(_Token(kind, match.group(kind), match.start(kind)))
        at = match.end()
    return found


def _unsupported(token: _Token) -> NotEvaluated:
    what = "character " if token.kind == "bad" else ""
    return NotEvaluated(f"unsupported {what}{token.text!r} at {token.at}")


def _unquoted(literal: str) -> str:
    body = literal[1:-1]
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), body)


def _check(deadline: float) -> None:
    if time.monotonic() > deadline:
        raise RuleTimeout("rule timed out")


def truthy(value: Value) -> bool:
    """JavaScript's truthiness for the values a rule can make."""
    if value is None:
        return False
    if isinstance(value, tuple):
        return True
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        return value != 0
    return value != ""


def _equal(left: Value, right: Value) -> bool:
    if isinstance(left, tuple) or isinstance(right, tuple):
        return left is right
    if isinstance(left, bool) != isinstance(right, bool):
        return False
    return type(left) is type(right) and left == right


_ORDERS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _ordered(op: str, left: Value, right: Value) -> bool:
    """Two numbers or two strings compared; anything else is false (NaN-like)."""
    numbers = all(isinstance(v, float) for v in (left, right))
    strings = all(isinstance(v, str) for v in (left, right))
    return (numbers or strings) and _ORDERS[op](left, right)


class _Parser:
    """Recursive descent over the tokens; every method returns a compiled ``Node``."""

    def __init__(self, text: str) -> None:
        self._tokens = _tokens(text)
        self._at = 0

    def rule(self) -> Node:
        node = self._or()
        if self._peek(";"):
            self._at += 1
        if self._at < len(self._tokens):
            raise _unsupported(self._tokens[self._at])
        return node

    def _peek_kind(self, kind: str) -> bool:
        return self._at < len(self._tokens) and self._tokens[self._at].kind == kind

    def _peek(self, *texts: str) -> bool:
        return self._at < len(self._tokens) and self._tokens[self._at].text in texts

    def _take(self, kind: str | None = None, text: str | None = None) -> _Token:
        if self._at >= len(self._tokens):
            raise NotEvaluated("the rule ends too early")
        token = self._tokens[self._at]
        if token.kind == "bad" or (kind and token.kind != kind) or (text and token.text != text):
            raise _unsupported(token)
        self._at += 1
        return token

    def _or(self) -> Node:
        node = self._and()
        while self._peek("||"):
            self._at += 1
            node = _either(node, self._and())
        return node

    def _and(self) -> Node:
        node = self._unary()
        while self._peek("&&"):
            self._at += 1
            node = _both(node, self._unary())
        return node

    def _unary(self) -> Node:
        if self._peek("!"):
            self._at += 1
            inner = self._unary()
            return lambda tags, deadline: not truthy(inner(tags, deadline))
        return self._comparison()

    def _comparison(self) -> Node:
        # JavaScript's precedence: relational operators bind tighter than equality ones;
        # both associate to the left.
        node = self._relational()
        while self._peek("===", "!==", "==", "!="):
            op = self._take().text
            node = _compared(op, node, self._relational())
        return node

    def _relational(self) -> Node:
        node = self._operand()
        while self._peek("<=", ">=", "<", ">"):
            op = self._take().text
            node = _compared(op, node, self._operand())
        return node

    def _operand(self) -> Node:
        token = self._take()
        if token.kind == "string":
            text = _unquoted(token.text)
            return lambda tags, deadline: text
        if token.text == "-" and self._peek_kind("number"):
            negative = -float(self._take().text)
            return lambda tags, deadline: negative
        if token.kind == "number":
            number = float(token.text)
            return lambda tags, deadline: number
        if token.text == "(":
            inner = self._or()
            self._take(text=")")
            return inner
        if token.kind == "name" and token.text in _CONSTANTS:
            constant = _CONSTANTS[token.text]
            return lambda tags, deadline: constant
        if token.kind == "name" and token.text == "tags":
            return self._tags()
        raise _unsupported(token)

    def _tags(self) -> Node:
        if self._peek("["):
            self._at += 1
            token = self._take(kind="number")
            if not token.text.isdigit():
                raise NotEvaluated(f"unsupported index {token.text!r} at {token.at}")
            index = int(token.text)
            self._take(text="]")
            return lambda tags, deadline: tags[index] if index < len(tags) else None
        if not self._peek("."):
            return lambda tags, deadline: tags
        self._at += 1
        member = self._take(kind="name")
        if member.text == "length":
            return lambda tags, deadline: float(len(tags))
        if member.text not in ("includes", "indexOf"):
            raise NotEvaluated(f"unsupported tags.{member.text} at {member.at}")
        self._take(text="(")
        wanted = _unquoted(self._take(kind="string").text)
        self._take(text=")")
        if member.text == "includes":
            return lambda tags, deadline: wanted in tags
        return lambda tags, deadline: float(tags.index(wanted)) if wanted in tags else -1.0


def _either(left: Node, right: Node) -> Node:
    def node(tags: tuple[str, ...], deadline: float) -> Value:
        _check(deadline)
        value = left(tags, deadline)
        return value if truthy(value) else right(tags, deadline)

    return node


def _both(left: Node, right: Node) -> Node:
    def node(tags: tuple[str, ...], deadline: float) -> Value:
        _check(deadline)
        value = left(tags, deadline)
        return right(tags, deadline) if truthy(value) else value

    return node


def _compared(op: str, left: Node, right: Node) -> Node:
    def node(tags: tuple[str, ...], deadline: float) -> Value:
        _check(deadline)
        a, b = left(tags, deadline), right(tags, deadline)
        if op in ("==", "==="):
            return _equal(a, b)
        if op in ("!=", "!=="):
            return not _equal(a, b)
        return _ordered(op, a, b)

    return node


@dataclass(frozen=True)
class Rule:
    """A parsed rule tag; ``matches`` evaluates it for one offering's tags."""

    text: str
    _node: Node

    def matches(self, tags: Sequence[str], timeout_ms: int) -> bool:
        """True only when the rule answers the boolean true for ``tags`` (CloudStack: any
        other answer is no match). Raises RuleTimeout after ``timeout_ms``."""
        deadline = time.monotonic() + timeout_ms / 1000
        return self._node(tuple(tags), deadline) is True


@functools.lru_cache(maxsize=1024)
def parse(text: str) -> Rule:
    """The rule ``text`` compiled; raises NotEvaluated when it is outside the subset."""
    if len(text) > MAX_LENGTH:
        raise NotEvaluated(f"longer than {MAX_LENGTH} characters")
    if not text.strip():
        raise NotEvaluated("the rule is empty")
    return Rule(text, _Parser(text).rule())
