"""Write measured traffic back into a scenario's YAML text (``econ traffic --write``), keeping
every comment, key order and layout (ruamel round-trip, as :mod:`econ.scenario.edits`).

In: the scenario text, the traffic summary (the ``econ traffic --json`` object) and where it came
from (:class:`TrafficProvenance`). Out: :class:`TrafficWrite`: the new text (not yet validated:
the caller parses it with the loader, as ``econ validate`` does) and the list of changed figures.

What is written, each with an end-of-line provenance comment (files, date, n, interval); a
figure's earlier comment is kept after it as "was <old>: <comment>", so no comment is lost:
- ``conversation``: ``turns`` = the mean number of turns rounded to a whole number (the schema
  counts whole turns; the comment gives the mean, p50 and p90), ``user_tokens_per_turn``,
  ``assistant_tokens_per_turn`` and ``system_prompt_tokens`` = the means (the last only when
  the log holds system messages: a prompt added server-side is often not logged), with tool
  results and images per turn added to the user's (billed as input) and tool calls to the
  assistant's (billed as output), each named in the comment; the Monte Carlo
  spreads ``token_length_cv`` (the larger of user and assistant) and ``turns_cv`` (when the
  summary's ``turns`` has ``sd``) are the coefficients of variation *of the mean*:
  sd / (mean · sqrt(conversations)). They scale the scenario's mean in each draw, so the
  sampling error of the mean is what they measure, not the spread of single conversations
  (drift over the planning horizon is not measured by a log; raise them by hand for it);
  ``cache_hit_rate`` when the summary has ``cache_hit_rate``;
- per capability (optional summary key ``capability_shapes``: a list of
  ``{id, n, turns: {mean, ...}, tokens_per_turn: {...}}`` as at the top level): an override in
  the capability's ``conversation`` where its figure differs from the scenario's by more than
  ``shape_tolerance`` (relative), or where the capability has an override already;
- ``traffic_share`` of each capability in ``capabilities`` (rounded down to 0.0001, so shares
  that summed to at most 1 still do) and ``traffic_share_sd`` = (ci_high − ci_low) / (2 · 1.96),
  the normal-equivalent sd of the 95% interval. A capability listed with ``measured_by: null``
  (no text rule or classifier can see it) is *not* written: unmeasured is not 0; its share is
  kept as it is and a note says so. When the kept shares and the measured ones would sum past
  1, nothing is written (refused, naming the shares kept): a share the log cannot see is never
  lowered or set to 0 to make room;
- with ``add_unseen``, each coverage cluster becomes a new capability with no evals (so
  ``unmeasured``): its share is carved out of the capabilities its conversations were assigned to
  (cluster key ``from``: ``{capability or "uncategorised": n}``), or, without ``from``, out of the
  traffic no capability holds; ``severity_usd`` is the median of the other capabilities' and
  marked [assumption].
"""

from __future__ import annotations

import io
import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import median
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.tokens import CommentToken

from econ.base.errors import EconError
from econ.scenario.edits import round_trip_yaml

__all__ = ["Change", "TrafficProvenance", "TrafficWrite", "comment_text", "write_traffic"]

Z95 = 1.959963984540054
SHARE_STEP = 1e-4
UNCATEGORISED = "uncategorised"


@dataclass(frozen=True)
class TrafficProvenance:
    files: tuple[str, ...]
    date: str  # ISO date of the measurement
    conversations: int

    def cite(self) -> str:
        return f"{', '.join(self.files)}, {self.date}, n={self.conversations}"


@dataclass(frozen=True)
class Change:
    path: str  # as ``econ diff`` names it: capabilities[id].traffic_share
    old: Any
    new: Any


@dataclass(frozen=True)
class TrafficWrite:
    text: str
    changes: tuple[Change, ...]
    notes: tuple[str, ...] = ()  # what was left alone, and why


def _num(x: float, places: int) -> float | int:
    v = round(float(x), places)
    return int(v) if v.is_integer() else v


def _share(x: float) -> float:
    return round(math.floor(float(x) / SHARE_STEP + 1e-9) * SHARE_STEP, 4)


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


class _Writer:
    def __init__(self, prov: TrafficProvenance) -> None:
        self.prov = prov
        self.changes: list[Change] = []

    def set(self, node: CommentedMap, path: str, key: str, value: Any, why: str,
            after: str | None = None, column: int | None = None) -> None:
        old = node.get(key)
        if key in node and old == value and isinstance(old, bool) == isinstance(value, bool):
            return
        old_comment = _eol(node, key)
        if key in node:
            node[key] = value
        else:
            keys = list(node)
            pos = keys.index(after) + 1 if after in keys else len(keys)
            node.insert(pos, key, value)
        text = f"traffic: {why} ({self.prov.cite()})"
        if old_comment:
            text += f"; was {old}: {old_comment}"
        elif key in node and old is not None:
            text += f"; was {old}"
        _set_eol(node, key, text, column)
        self.changes.append(Change(f"{path}.{key}" if path else key, old, value))


def _eol(node: CommentedMap, key: str) -> str:
    tok = _token(node, key)
    if tok is None:
        return ""
    first = tok.value.split("\n", 1)[0].strip()
    return first[1:].strip() if first.startswith("#") else ""


def _token(node: CommentedMap, key: str) -> CommentToken | None:
    item = node.ca.items.get(key)
    tok = item[2] if item and len(item) > 2 else None
    return tok if isinstance(tok, CommentToken) else None


def _columns(node: CommentedMap) -> int | None:
    return max((t.column for k in node if (t := _token(node, k)) is not None), default=None)


def comment_text(text: str) -> str:
    """``text`` fit for one YAML comment: every line break, control or format character (a file
    name may hold a newline that would start a YAML line) becomes a space."""
    return "".join(" " if unicodedata.category(ch)[0] in "CZ" and ch != " " else ch
                   for ch in text)


def _set_eol(node: CommentedMap, key: str, text: str, column: int | None = None) -> None:
    """Set the end-of-line comment of ``key``: one line, whatever ``text`` holds."""
    text = comment_text(text)
    tok = _token(node, key)
    if tok is not None:
        head, sep, rest = tok.value.partition("\n")
        if head.strip().startswith("#") or not head.strip():
            tok.value = f"# {text}{sep}{rest}" if sep else f"# {text}"
            return
    node.yaml_add_eol_comment(f"# {text}", key, column=_columns(node) or column)


def _last_token(node: Any) -> CommentToken | None:
    """The comment token after the last line of a mapping (blank lines that follow live in it)."""
    while isinstance(node, CommentedMap) and node:
        key = list(node)[-1]
        if isinstance(node[key], CommentedMap) and node[key]:
            node = node[key]
            continue
        return _token(node, key)
    return None


def _shape_fields(summary: Mapping[str, Any], n: int) -> dict[str, tuple[Any, str]]:
    """Scenario fields measured by a (top-level or per-capability) shape summary."""
    out: dict[str, tuple[Any, str]] = {}
    turns = summary.get("turns") or {}
    if isinstance(turns.get("mean"), int | float):
        mean = float(turns["mean"])
        extra = ", ".join(f"{k} {turns[k]:g}" for k in ("p50", "p90") if k in turns)
        out["turns"] = (max(1, round(mean)), f"mean {mean:.2f} turns{', ' + extra if extra else ''}"
                        ", rounded to whole turns")
        if isinstance(turns.get("sd"), int | float) and mean > 0 and n > 0:
            out["turns_cv"] = (_num(turns["sd"] / mean / math.sqrt(n), 4),
                               f"sd {turns['sd']:.2f} ÷ mean ÷ √n: sampling spread of the mean")
    tokens = summary.get("tokens_per_turn") or {}
    tokenizer = summary.get("tokenizer")
    counted = f", counted by {tokenizer}" if tokenizer else ""
    cvs = []
    for role, key in (("user", "user_tokens_per_turn"), ("assistant", "assistant_tokens_per_turn"),
                      ("system", "system_prompt_tokens")):
        t = tokens.get(role) or {}
        if not isinstance(t.get("mean"), int | float) or (role == "system" and t["mean"] <= 0):
            continue  # a log without system messages says nothing of a server-side prompt
        sd = t.get("sd")
        spread = f", sd {sd:.1f}" if isinstance(sd, int | float) else ""
        added, billed = _billed_with(tokens, role)
        out[key] = (_num(t["mean"] + added, 1),
                    f"mean {t['mean']:.1f} tokens{spread}{billed}{counted}")
        if role != "system" and isinstance(sd, int | float) and t["mean"] > 0 and n > 0:
            cvs.append(sd / t["mean"] / math.sqrt(n))
    if cvs:
        out["token_length_cv"] = (_num(max(cvs), 4), "sd ÷ mean ÷ √n of tokens per turn, the "
                                  "larger of user and assistant: sampling spread of the mean")
    if isinstance(summary.get("cache_hit_rate"), int | float):
        out["cache_hit_rate"] = (_num(summary["cache_hit_rate"], 4),
                                 "share of re-sent history a prompt cache could hit")
    return out


def _billed_with(tokens: Mapping[str, Any], role: str) -> tuple[float, str]:
    """Tool and image tokens per turn billed like ``role``'s: tool results and images are input
    (added to the user's), tool calls output (added to the assistant's); and the comment."""
    classes = {"user": (("tool_result", "tool results"), ("image", "images")),
               "assistant": (("tool_call", "tool calls"),)}.get(role, ())
    extra, parts = 0.0, []
    for key, label in classes:
        t = tokens.get(key) or {}
        mean = t.get("mean")
        if isinstance(mean, int | float) and mean > 0:
            extra += float(mean)
            missing = (f", {t['images'] - t['counted']} of {t['images']} uncounted"
                       if key == "image" and t.get("images", 0) > t.get("counted", 0) else "")
            parts.append(f"{label} {mean:.1f}{missing}")
    return extra, (f" + {' + '.join(parts)} per turn, billed alike" if parts else "")


def _capability_nodes(data: Any) -> dict[str, CommentedMap]:
    caps = data.get("capabilities")
    if not isinstance(caps, CommentedSeq):
        raise EconError("the scenario has no capabilities list")
    return {str(c.get("id")): c for c in caps if isinstance(c, CommentedMap)}


def _identifier(terms: Sequence[str], k: int, taken: set[str]) -> str:
    words = [re.sub(r"[^A-Za-z0-9]+", "", t.lower()) for t in terms]
    base = "_".join(["unseen", str(k), *[w for w in words if w][:2]])[:70]
    out, i = base, 2
    while out in taken:
        out, i = f"{base}_{i}", i + 1
    return out


def write_traffic(text: str, summary: Mapping[str, Any], provenance: TrafficProvenance, *,
                  add_unseen: bool = False, shape_tolerance: float = 0.10) -> TrafficWrite:
    """The scenario text with the measured traffic written in (see the module docstring)."""
    y = round_trip_yaml()
    data = y.load(text)
    if not isinstance(data, CommentedMap) or not isinstance(data.get("conversation"),
                                                            CommentedMap):
        raise EconError("the scenario has no conversation mapping to write the shape into")
    w = _Writer(provenance)
    n = int(summary.get("conversations") or provenance.conversations)
    conv = data["conversation"]
    for key, (value, why) in _shape_fields(summary, n).items():
        w.set(conv, "conversation", key, value, why)
    caps = _capability_nodes(data)
    _write_capability_shapes(w, caps, conv, summary.get("capability_shapes") or [],
                             shape_tolerance)
    measured = summary.get("capabilities") or []
    unknown = [str(c.get("id")) for c in measured if str(c.get("id")) not in caps]
    if unknown:
        raise EconError(f"traffic summary: capabilities not in the scenario: "
                        f"{', '.join(unknown)}; known: {', '.join(caps)}")
    shares = {cid: float(node.get("traffic_share") or 0.0) for cid, node in caps.items()}
    unseeable = [str(c["id"]) for c in measured if "measured_by" in c and not c["measured_by"]]
    notes = [f"capabilities[{cid}].traffic_share: left at {shares[cid]:g}: no text rule or "
             f"classifier can see {cid}, so the log does not measure it (unmeasured is not 0)"
             for cid in unseeable]
    for c in measured:
        if str(c["id"]) in unseeable:
            continue
        cid, node = str(c["id"]), caps[str(c["id"])]
        shares[cid] = _share(c["share"])
        lo, hi = float(c["ci_low"]), float(c["ci_high"])
        w.set(node, f"capabilities[{cid}]", "traffic_share", shares[cid],
              f"{_pct(c['share'])} (95% CI {_pct(lo)}–{_pct(hi)}), {c.get('n', '?')} "
              "conversations", after="label" if "label" in node else "id")
        w.set(node, f"capabilities[{cid}]", "traffic_share_sd", _num((hi - lo) / (2 * Z95), 4),
              "half the 95% interval ÷ 1.96", after="traffic_share")
    coverage = summary.get("coverage") or {}
    if add_unseen and coverage.get("clusters"):
        _add_unseen(w, data, caps, shares, coverage, n)
    if sum(shares.values()) > 1.0 + 1e-9:
        raise EconError(_overflow(shares, [cid for cid in caps if cid in unseeable or cid not in
                                           {str(c["id"]) for c in measured}]))
    out = io.StringIO()
    y.dump(data, out)
    return TrafficWrite(out.getvalue(), tuple(w.changes), tuple(notes))


def _overflow(shares: Mapping[str, float], kept: Sequence[str]) -> str:
    """Why shares that would sum past 1 are refused, naming the ``kept`` ones (those the log did
    not measure: left as they are, never lowered to make room)."""
    held = ", ".join(f"{cid} {shares[cid]:g}" for cid in kept if shares[cid] > 0)
    return (f"traffic shares would sum to {sum(shares.values()):.4f}, more than 1"
            + (f"; the shares this log does not measure are kept as they are ({held}), never "
               "lowered or set to 0 to make room: lower them by hand if the measured shares "
               "are right, or give them text rules" if held else ""))


def _write_capability_shapes(w: _Writer, caps: Mapping[str, CommentedMap], conv: CommentedMap,
                             shapes: Sequence[Mapping[str, Any]], tolerance: float) -> None:
    for shape in shapes:
        cid = str(shape.get("id"))
        if cid not in caps:
            raise EconError(f"traffic summary: capability_shapes: {cid!r} is not in the scenario")
        node = caps[cid]
        override = node.get("conversation")
        fields = _shape_fields(shape, int(shape.get("n") or 0))
        fields.pop("turns_cv", None)  # scenario-wide only
        fields.pop("cache_hit_rate", None)
        for key, (value, why) in fields.items():
            has = isinstance(override, CommentedMap) and key in override
            base = conv.get(key)
            differs = not isinstance(base, int | float) or abs(value - base) > tolerance * max(
                abs(base), 1e-12)
            if key == "token_length_cv" or not (has or differs):
                continue
            if not isinstance(override, CommentedMap):
                override = CommentedMap()
                keys = list(node)
                node.insert(keys.index("evals") if "evals" in keys else len(keys),
                            "conversation", override)
            w.set(override, f"capabilities[{cid}].conversation", key, value,
                  f"{why}, n={shape.get('n', '?')} conversations of {cid}")


def _add_unseen(w: _Writer, data: CommentedMap, caps: dict[str, CommentedMap],
                shares: dict[str, float], coverage: Mapping[str, Any], n: int) -> None:
    clusters = coverage["clusters"]
    severities = [float(c.get("severity_usd") or 0.0) for c in caps.values()]
    severity = _num(median(severities), 4) if severities else 0.0
    free = 1.0 - sum(shares.values())
    taken = set(caps)
    seq: CommentedSeq = data["capabilities"]
    # blank lines that closed the list move to the new last item
    before = _last_token(seq[-1]) if len(seq) else None
    trailing = ""
    if before is not None and before.value.endswith("\n\n"):
        trailing = before.value[len(before.value.rstrip("\n")):]
        before.value = before.value.rstrip("\n") + "\n"
    column = _columns(seq[-1]) if len(seq) and isinstance(seq[-1], CommentedMap) else None
    for k, cl in enumerate(clusters, start=1):
        share = _share(cl["share"])
        sources = cl.get("from")
        if isinstance(sources, Mapping):
            for cid, count in sources.items():
                if cid in (UNCATEGORISED, None):
                    continue
                if cid not in caps:
                    raise EconError(f"coverage cluster {k}: from: {cid!r} is not in the scenario")
                new = _share(max(0.0, shares[cid] - int(count) / n + 1e-12))
                shares[cid] = new
                w.set(caps[cid], f"capabilities[{cid}]", "traffic_share", new,
                      f"minus {count} conversations no eval resembles, now unseen_{k}")
        elif share > free + 1e-9:
            raise EconError(f"coverage cluster {k}: its share {share:.4f} exceeds the traffic no "
                            f"capability holds ({max(free, 0.0):.4f}); give its conversations "
                            "by capability ('from') to carve it out of them")
        else:
            free -= share
        cid = _identifier(cl.get("terms") or (), k, taken)
        taken.add(cid)
        shares[cid] = share
        lo, hi = float(cl["ci_low"]), float(cl["ci_high"])
        terms = ", ".join(cl.get("terms") or ()) or "no terms"
        node = CommentedMap({"id": cid, "label": f"unseen traffic: {terms}"})
        seq.append(node)
        path = f"capabilities[{cid}]"
        example = (cl.get("examples") or [""])[0]
        w.set(node, path, "traffic_share", share,
              f"{_pct(cl['share'])} (95% CI {_pct(lo)}–{_pct(hi)}) no eval resembles (coverage "
              f"threshold {float(coverage.get('threshold', float('nan'))):.3f})"
              + (f", e.g. {example!r}" if example else ""), column=column)
        w.set(node, path, "traffic_share_sd", _num((hi - lo) / (2 * Z95), 4),
              "half the 95% interval ÷ 1.96", column=column)
        node["severity_usd"] = severity
        _set_eol(node, "severity_usd", "[assumption] the median severity of the other "
                 "capabilities; no evals: unmeasured until you add some", column)
        w.changes.append(Change(f"{path}.severity_usd", None, severity))
    after = _last_token(seq[-1])
    if trailing and after is not None:
        after.value = after.value.rstrip("\n") + trailing
