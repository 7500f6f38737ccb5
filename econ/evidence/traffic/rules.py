r"""Text rules in one regex dialect that DuckDB (RE2), Polars (Rust regex) and Spark (Java)
read the same way on any script.

The engines disagree on the shorthands: ``\b``, ``\w``, ``\d`` and ``\s`` are ASCII in RE2 and
Java but Unicode in Rust; Java's ``(?i)`` folds ASCII only and its ``$`` also matches before a
final newline. A rule is therefore compiled to a pattern without any of them:

- the text is lowered on the engine (``lower``) and the pattern's literals here (``str.lower``),
  so no case flag is needed; ``σ`` and ``ς`` match each other (engines lower a final sigma
  differently);
- a keyword needs a *word boundary* only where its edge is a letter, mark, digit or ``_`` of a
  script written with spaces: the neighbouring character must then be a non-word character
  ``[^\p{L}\p{M}\p{N}_]`` or the end of the text. Keywords in scripts written without spaces
  (Han, kana, Thai, Lao, Khmer, Myanmar) match inside running text;
- a user regex is read token by token and rewritten: ``\w``, ``\d``, ``\s`` (and negations) as
  explicit classes, ``.`` as ``[^\n]``, ``$`` as ``\z``, ``\b`` at the start or end of the pattern
  as a boundary class; constructs some engine lacks or reads differently (look-around, back
  references, ``\B``, inline flags, possessive quantifiers, class set operations) are refused
  with the reason.

In: keywords and regexes from a capability map. Out: pattern strings (``compile_keyword``,
``compile_regex``) and, for a keyword, the literal every match contains (``required_literal``),
which lets an engine skip the regex where a plain substring test already says no.
"""

from __future__ import annotations

import re
import unicodedata
import warnings
from collections.abc import Sequence
from typing import Any

from econ.base.errors import EconError

__all__ = ["NOT_WORD", "WORD", "any_of", "compile_keyword", "compile_regex", "keyword_test",
           "lower_literal", "required_literal", "spaced"]

WORD = r"\p{L}\p{M}\p{N}_"  # inside a class
NOT_WORD = f"[^{WORD}]"
_START = f"(?:^|{NOT_WORD})"
_END = f"(?:{NOT_WORD}|$)"
_META = set(".^$*+?{}[]\\|()")
_UNSPACED = ("CJK", "HIRAGANA", "KATAKANA", "THAI", "LAO", "KHMER", "MYANMAR", "IDEOGRAPHIC",
             "HALFWIDTH KATAKANA")
_SHORT_IN_CLASS = {"w": WORD, "d": "0-9", "s": r"\t\n\x0B\f\r "}
_SHORT = {"w": f"[{WORD}]", "W": NOT_WORD, "d": "[0-9]", "D": "[^0-9]",
          "s": r"[\t\n\x0B\f\r ]", "S": r"[^\t\n\x0B\f\r ]"}
_CONTROL = {"n": r"\n", "t": r"\t", "r": r"\r", "f": r"\f", "v": r"\x0B", "a": r"\x07",
            "e": r"\x1B"}
_CATEGORY = re.compile(r"[LMNPSZC][a-z]?")


def _is_word(c: str) -> bool:
    return c == "_" or unicodedata.category(c)[0] in "LMN"


def _spaced(c: str) -> bool:
    """A word character of a script that separates words with spaces."""
    name = unicodedata.name(c, "")
    return _is_word(c) and not name.startswith(_UNSPACED)


def lower_literal(text: str) -> str:
    """A literal as the engines see it in lowered text (final sigma folded to σ)."""
    return text.lower().replace("ς", "σ")


def _char(c: str) -> str:
    """One literal character of lowered text, escaped for a pattern (outside a class)."""
    if c in "σς":
        return "[σς]"
    if c in _META:
        return "\\" + c
    if c == "\n":
        return r"\n"
    return c


def compile_keyword(word: str) -> str:
    """A case-insensitive whole-word match of ``word`` (see the module's boundary rule)."""
    low = word.lower()
    body = "".join(_char(c) for c in low)
    return ((_START if _spaced(low[0]) else "") + body
            + (_END if _spaced(low[-1]) else ""))


def required_literal(pattern: str) -> str | None:
    """The lowered literal every match of a :func:`compile_keyword` pattern contains (None for
    a pattern of another form)."""
    body = pattern.removeprefix(_START).removesuffix(_END)
    out = []
    i = 0
    while i < len(body):
        c = body[i]
        if body.startswith("[σς]", i):
            return None  # two spellings: no single literal
        if c == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt == "n":
                out.append("\n")
            elif nxt in _META:
                out.append(nxt)
            else:
                return None
            i += 2
            continue
        if c in _META:
            return None
        out.append(c)
        i += 1
    return "".join(out) or None


def keyword_test(pattern: str) -> tuple[str, str] | None:
    """How a keyword pattern can be tested without a regex: ``("word", w)`` when it is a whole
    word of word characters (then it occurs as `` w `` in :func:`spaced` text), ``("plain",
    s)`` when it needs no boundary (a substring test); None otherwise."""
    literal = required_literal(pattern)
    if literal is None:
        return None
    start, end = pattern.startswith(_START), pattern.endswith(_END)
    if start and end and all(_is_word(c) for c in literal):
        return "word", literal
    if not start and not end:
        return "plain", literal
    return None


def spaced(low: Any) -> Any:
    """Lowered text (an Ibis string) with every run of non-word characters made one space and a
    space at each end: a whole word ``w`` occurs in it exactly as `` w ``."""
    return " " + low.re_replace(NOT_WORD + "+", " ") + " "


def any_of(patterns: Sequence[str]) -> str:
    """One pattern that matches where any of ``patterns`` does; keywords sharing their
    boundaries are factored (``B(?:a|b)B``) so the engine scans the text once."""
    groups: dict[tuple[bool, bool], list[str]] = {}
    rest = []
    for p in patterns:
        start, end = p.startswith(_START), p.endswith(_END)
        body = p[len(_START) if start else 0:len(p) - len(_END) if end else len(p)]
        if required_literal(p) is not None or (body and not _has_meta(body)):
            groups.setdefault((start, end), []).append(body)
        else:
            rest.append(p)
    alts = [(_START if s else "") + "(?:" + "|".join(bodies) + ")" + (_END if e else "")
            for (s, e), bodies in sorted(groups.items())] + rest
    return alts[0] if len(alts) == 1 else "|".join(f"(?:{a})" for a in alts)


def _has_meta(body: str) -> bool:
    """Whether a keyword body holds anything but literals and escaped metacharacters (a
    ``[σς]`` class is fine)."""
    plain = body.replace("[σς]", "")
    i = 0
    while i < len(plain):
        if plain[i] == "\\":
            i += 2
            continue
        if plain[i] in _META:
            return True
        i += 1
    return False


class _Refused(Exception):
    pass


def compile_regex(pattern: str) -> str:
    """``pattern`` (a user's regex, matched case-insensitively) in the portable dialect.
    Raises ``EconError`` naming what is not portable."""
    try:
        with warnings.catch_warnings():  # Python's own future-syntax notes: refused below
            warnings.simplefilter("ignore", FutureWarning)
            re.compile(pattern)
    except re.error as exc:
        raise EconError(f"bad regex {pattern!r} ({exc})") from None
    try:
        return _Translator(pattern).run()
    except _Refused as exc:
        raise EconError(f"regex {pattern!r} is not portable across engines: {exc}") from None


class _Translator:
    def __init__(self, pattern: str) -> None:
        self.p = pattern
        self.i = 0
        self.depth = 0
        self.out: list[str] = []
        self.kinds: list[str] = []  # per emitted atom: word, other, open, alt, quant

    def run(self) -> str:
        if self.p.startswith("(?i)"):
            self.i = 4  # case is folded already
        while self.i < len(self.p):
            self.step()
        return "".join(self.out)

    def emit(self, text: str, kind: str) -> None:
        self.out.append(text)
        self.kinds.append(kind)

    def step(self) -> None:
        c = self.p[self.i]
        if c == "\\":
            self.escape()
        elif c == "[":
            self.char_class()
        elif c == "(":
            self.group()
        elif c == ")":
            self.depth -= 1
            self.i += 1
            self.emit(")", "other")
        elif c == "|":
            self.i += 1
            self.emit("|", "alt")
        elif c in "*+?":
            self.i += 1
            self.emit(c + self.lazy(), "quant")
        elif c == "{":
            self.brace()
        elif c == ".":
            self.i += 1
            self.emit(r"[^\n]", "other")
        elif c == "^":
            self.i += 1
            self.emit("^", "other")
        elif c == "$":
            self.i += 1
            self.emit(r"\z", "other")
        elif c == "}":
            self.i += 1
            self.emit(r"\}", "other")
        else:
            self.i += 1
            low = lower_literal(c)
            self.emit("".join(_char(x) for x in low), "word" if _is_word(c) else "other")

    def lazy(self) -> str:
        nxt = self.p[self.i] if self.i < len(self.p) else ""
        if nxt == "?":
            self.i += 1
            return "?"
        if nxt == "+":
            raise _Refused("possessive quantifiers (Java only)")
        return ""

    def brace(self) -> None:
        m = re.compile(r"\{(\d+)(,(\d*))?\}").match(self.p, self.i)
        if m is None:
            self.i += 1
            self.emit(r"\{", "other")  # a literal brace (RE2 and Java disagree unescaped)
            return
        if int(m.group(1)) > 1000 or (m.group(3) and int(m.group(3)) > 1000):
            raise _Refused("a repetition count above 1000 (RE2's limit)")
        self.i = m.end()
        self.emit(m.group(0) + self.lazy(), "quant")

    def group(self) -> None:
        rest = self.p[self.i:]
        for opener in ("(?:", "(?P<", "(?<", "("):
            if rest.startswith(opener):
                break
        if opener in ("(?P<", "(?<"):
            end = rest.find(">")
            name = rest[len(opener):end]
            if end < 0 or not name.isidentifier():  # (?<= and (?<! land here
                raise _Refused("look-behind (RE2 and Rust have none)")
            self.i += end + 1
        elif opener == "(" and rest.startswith("(?"):
            kind = "look-ahead (RE2 and Rust have none)" if rest[2:3] in "=!" else \
                "inline flags or other (?…) groups (the engines read them differently)"
            raise _Refused(kind)
        else:
            self.i += len(opener)
        self.depth += 1
        self.emit("(?:", "open")

    def escape(self) -> None:
        if self.i + 1 >= len(self.p):
            raise _Refused("a trailing backslash")
        c = self.p[self.i + 1]
        self.i += 2
        if c in _SHORT:
            self.emit(_SHORT[c], "word" if c in "wd" else "other")
        elif c == "b":
            self.boundary()
        elif c in _CONTROL:
            self.emit(_CONTROL[c], "other")
        elif c in "pP":
            m = re.compile(r"\{([A-Za-z]+)\}|([LMNPSZC])").match(self.p, self.i)
            cat = m and (m.group(1) or m.group(2))
            if not m or not cat or not _CATEGORY.fullmatch(cat):
                raise _Refused(r"\p is portable for Unicode general categories only (\p{L})")
            self.i = m.end()
            self.emit(f"\\{c}{{{cat}}}", "word" if c == "p" and cat[0] in "LMN" else "other")
        elif c == "x":
            m = re.compile(r"[0-9A-Fa-f]{2}|\{([0-9A-Fa-f]{1,6})\}").match(self.p, self.i)
            if not m:
                raise _Refused(r"\x takes two hex digits or \x{…}")
            self.i = m.end()
            self.emit(self.codepoint(int(m.group(1) or m.group(0), 16)), "other")
        elif c == "u":
            m = re.compile(r"[0-9A-Fa-f]{4}").match(self.p, self.i)
            if not m:
                raise _Refused(r"\u takes four hex digits")
            self.i = m.end()
            self.emit(self.codepoint(int(m.group(0), 16)), "other")
        elif c.isdigit():
            raise _Refused("back references and octal escapes (RE2 and Rust have none)")
        elif c.isalpha():
            raise _Refused(f"\\{c} (read differently or not at all by some engine)")
        else:
            # punctuation is a literal unescaped everywhere except the metacharacters (Rust
            # reads \< and \> as word assertions)
            self.emit(_char(lower_literal(c)), "word" if c == "_" else "other")

    @staticmethod
    def codepoint(n: int) -> str:
        low = lower_literal(chr(n))
        return "".join(f"\\x{{{ord(x):X}}}" for x in low)

    def boundary(self) -> None:
        at_start = not self.kinds or self.kinds[-1] == "alt"
        rest = self.p[self.i:]
        nxt_word = bool(rest) and (_is_word(rest[0]) or rest[:2] in (r"\w", r"\d") or bool(
            re.match(r"\[[^\]\\^]*\]", rest)
            and all(_is_word(x) or x == "-" for x in rest[1:rest.index("]")])))
        at_end = not rest or (rest[0] == "|")
        if self.depth == 0 and at_start and nxt_word:
            self.emit(_START, "other")
        elif self.depth == 0 and at_end and self.kinds and self.kinds[-1] in ("word", "quant") \
                and self.last_atom_is_word():
            self.emit(_END, "other")
        else:
            raise _Refused(r"\b is portable only at the start or end of a pattern, next to a "
                           "letter, digit or _ (write the neighbouring class explicitly)")

    def last_atom_is_word(self) -> bool:
        for kind in reversed(self.kinds):
            if kind != "quant":
                return kind == "word"
        return False

    def char_class(self) -> None:
        j = self.i + 1
        parts = ["["]
        if self.p[j:j + 1] == "^":
            parts.append("^")
            j += 1
        first = True
        all_word = parts[-1] != "^"
        while j < len(self.p) and (self.p[j] != "]" or first):
            c = self.p[j]
            first = False
            if self.p.startswith(("[:", "&&", "--", "~~"), j):
                raise _Refused("POSIX classes and class set operations ([:alpha:], &&, --, ~~)")
            if c == "\\":
                e = self.p[j + 1:j + 2]
                j += 2
                if e in _SHORT_IN_CLASS:
                    parts.append(_SHORT_IN_CLASS[e])
                    all_word = all_word and e in "wd"
                elif e in "WDS":
                    raise _Refused(f"\\{e} inside […] (write a negated class)")
                elif e in _CONTROL:
                    parts.append(_CONTROL[e])
                    all_word = False
                elif e.isalnum():
                    raise _Refused(f"\\{e} inside […]")
                else:
                    parts.append("\\" + e if e in "[]\\^-&~" else e)
                    all_word = False
                continue
            if c == "-" and len(parts) > 1 and j + 1 < len(self.p) and self.p[j + 1] != "]" \
                    and parts[-1] not in ("[", "^"):
                lo, hi = lower_literal(self.p[j - 1]), lower_literal(self.p[j + 1])
                if len(lo) != 1 or len(hi) != 1 or lo > hi:
                    raise _Refused(f"the range {self.p[j - 1]}-{self.p[j + 1]} once lowered")
                parts.append("-")
                j += 1
                continue
            low = lower_literal(c)
            all_word = all_word and _is_word(c)
            parts.append("".join("\\" + x if x in "[]\\^&~" else x for x in
                                 (low + ("ς" if low == "σ" else ""))))
            j += 1
        if j >= len(self.p):
            raise _Refused("an unclosed […]")
        self.i = j + 1
        self.emit("".join(parts) + "]", "word" if all_word else "other")
