"""OpenAI double, answer side: read the text and JSON schema of a request, find the shipments, fill the schema.

How answers are made (contract in notes/CONTRACTS.md):
- The text is the USER content only (the system prompt may quote example numbers).
- If the text belongs to the workspace (it names a known message id or holds a ground-truth number), the
  answer is the ground-truth shipments whose numbers occur in it (spaces/dashes/case ignored). Otherwise the
  simulator's own detector (`numbers.find_numbers`) decides.
- The schema is filled generically: the top-level object's first array-of-objects property receives the
  shipments; item properties with known names get values, every other property gets null/""/0/false/[].
- `message_id` is the id of the nearest "[message <id> | ...]" header above the number, when there is one.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any

from desktop.sim import numbers
from desktop.sim.workspace import Workspace

_HEADER = re.compile(r"\[message\s+(msg_[A-Za-z0-9_]+)")


@dataclass
class Found:
    """One shipment the simulator will report."""

    tracking_number: str
    courier: str
    carrier: str
    message_id: str | None = None
    order_number: str | None = None
    supplier: str | None = None
    shipped_date: str | None = None
    destination_country: str | None = None
    destination_postcode: str | None = None
    confidence: float = 0.9
    evidence: str = ""

    def value(self, name: str) -> Any:
        return getattr(self, name, None) if name in _KNOWN else None


_KNOWN = {"tracking_number", "courier", "carrier", "message_id", "order_number", "supplier", "shipped_date",
          "destination_country", "destination_postcode", "confidence", "evidence"}


# Reading the request ---------------------------------------------------------------------------------
def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return ""


def request_texts(body: dict[str, Any], kind: str) -> tuple[str, str]:
    """(user text to analyse, all text for the token estimate) of a chat or responses request body."""
    user, every = [], []
    if kind == "chat":
        for message in body.get("messages") or []:
            text = _content_text(message.get("content")) if isinstance(message, dict) else ""
            every.append(text)
            if message.get("role") == "user":
                user.append(text)
    else:
        every.append(str(body.get("instructions") or ""))
        items = body.get("input")
        if isinstance(items, str):
            items = [{"role": "user", "content": items}]
        for item in items or []:
            text = _content_text(item.get("content")) if isinstance(item, dict) else ""
            every.append(text)
            if item.get("role", "user") == "user":
                user.append(text)
    return "\n".join(user), "\n".join(every)


def request_schema(body: dict[str, Any], kind: str) -> tuple[dict[str, Any] | None, bool]:
    """(JSON schema, strict) from response_format (chat) or text.format (responses); (None, False) if none."""
    if kind == "chat":
        fmt = body.get("response_format") or {}
        spec = fmt.get("json_schema") or {} if fmt.get("type") == "json_schema" else {}
    else:
        spec = (body.get("text") or {}).get("format") or {}
        spec = spec if spec.get("type") == "json_schema" else {}
    schema = spec.get("schema")
    return (schema if isinstance(schema, dict) else None), bool(spec.get("strict"))


def strict_problems(schema: dict[str, Any], root: dict[str, Any] | None = None, path: str = "") -> list[str]:
    """What the real API rejects in a strict schema: objects must list every property in `required` and
    set additionalProperties to false."""
    root = schema if root is None else root
    schema = resolve(schema, root)
    problems: list[str] = []
    if schema.get("type") == "object" or "properties" in schema:
        props = schema.get("properties") or {}
        if schema.get("additionalProperties") is not False:
            problems.append(f"{path or '<root>'}: 'additionalProperties' is required to be supplied and to be false")
        missing = sorted(set(props) - set(schema.get("required") or []))
        if missing:
            problems.append(f"{path or '<root>'}: 'required' must include every property; missing {missing}")
        for name, sub in props.items():
            problems += strict_problems(sub, root, f"{path}.{name}")
    for key in ("items",):
        if isinstance(schema.get(key), dict):
            problems += strict_problems(schema[key], root, f"{path}[]")
    for option in schema.get("anyOf") or []:
        problems += strict_problems(option, root, path)
    return problems


# Finding shipments -----------------------------------------------------------------------------------
class Finder:
    """Answers "which shipments are in this text" from the workspace truth, else the detector."""

    def __init__(self, workspace: Workspace | None) -> None:
        self.truth = workspace.truth_by_number if workspace else {}
        self.message_ids = ({m.id for c in workspace.conversations for m in c.messages} if workspace else set())

    def find(self, text: str) -> list[Found]:
        segments = _segments(text)
        normalised = [(mid, numbers.normalise(part)) for mid, part in segments]
        known = any(mid in self.message_ids for mid, _ in segments) if self.message_ids else False
        hits: list[Found] = []
        for number, truth in self.truth.items():
            where = next((mid for mid, norm in normalised if number in norm), False)
            if where is not False:
                hits.append(_from_truth(truth, where or truth.message_id))
        if hits or known:
            return sorted(hits, key=lambda f: _position(text, f.tracking_number))
        return [_from_detector(number, courier, segments) for number, courier in numbers.find_numbers(text)]


def _segments(text: str) -> list[tuple[str | None, str]]:
    """Split at "[message msg_x ..." headers: [(message id or None, text)]."""
    parts: list[tuple[str | None, str]] = []
    last, current = 0, None
    for header in _HEADER.finditer(text):
        parts.append((current, text[last:header.start()]))
        current, last = header.group(1), header.start()
    parts.append((current, text[last:]))
    return [(mid, part) for mid, part in parts if part]


def _position(text: str, number: str) -> int:
    found = _locate(text, number)
    return found.start() if found else len(text)


def _locate(text: str, number: str) -> re.Match[str] | None:
    pattern = r"[\s\-\u200b]*".join(re.escape(c) for c in number)
    return re.search(pattern, text, re.I)


def _evidence(text: str, number: str) -> str:
    found = _locate(text, number)
    if not found:
        return number
    start = text.rfind("\n", 0, found.start()) + 1
    end = text.find("\n", found.end())
    return text[start:end if end >= 0 else len(text)].strip()[:200]


def _from_truth(truth: Any, message_id: str | None) -> Found:
    return Found(truth.tracking_number, truth.courier, truth.carrier, message_id, truth.order_number,
                 truth.supplier, truth.shipped_date, truth.destination_country, truth.destination_postcode,
                 0.95)


def _from_detector(number: str, courier: str, segments: list[tuple[str | None, str]]) -> Found:
    mid = next((m for m, part in segments if number in numbers.normalise(part)), None)
    return Found(number, courier, numbers.CARRIER_NAMES.get(courier, courier), mid, confidence=0.8)


def add_evidence(found: list[Found], text: str) -> None:
    for item in found:
        item.evidence = _evidence(text, item.tracking_number)


# Faults ----------------------------------------------------------------------------------------------
def apply_content_faults(found: list[Found], cfg: Any, rng: random.Random, text: str) -> list[Found]:
    """Missed numbers, wrong carriers (per shipment) and one invented number (per call)."""
    kept = [f for f in found if rng.random() >= cfg.missed_number_rate]
    for item in kept:
        if rng.random() < cfg.wrong_carrier_rate:
            item.courier = rng.choice([c for c in numbers.COURIERS if c != item.courier])
            item.carrier = numbers.CARRIER_NAMES.get(item.courier, item.courier)
    if rng.random() < cfg.invented_number_rate:
        squashed = numbers.normalise(text)
        while True:  # plausible (valid check digit) but, by construction, absent from the text
            courier = rng.choice(("ups", "fedex", "usps", "dhl"))
            number = numbers.generate(courier, rng)[0]
            if number not in squashed:
                break
        first = _HEADER.search(text)
        kept.append(Found(number, courier, numbers.CARRIER_NAMES[courier], first.group(1) if first else None,
                          confidence=0.7, evidence=f"Tracking number {number}"))
    return kept


# Filling the schema ----------------------------------------------------------------------------------
def resolve(schema: Any, root: dict[str, Any]) -> dict[str, Any]:
    """Follow local "$ref"s ("#/$defs/Item")."""
    seen = 0
    while isinstance(schema, dict) and "$ref" in schema and seen < 20:
        node: Any = root
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node.get(part, {}) if isinstance(node, dict) else {}
        schema, seen = node, seen + 1
    return schema if isinstance(schema, dict) else {}


def _types(schema: dict[str, Any], root: dict[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
    """(type names, option schemas) incl. anyOf/oneOf and "type": [..] forms."""
    options = [resolve(o, root) for o in (schema.get("anyOf") or schema.get("oneOf") or [schema])]
    names: list[str] = []
    for option in options:
        kind = option.get("type")
        names += kind if isinstance(kind, list) else [kind] if kind else []
        if "enum" in option and not kind:
            names.append("string")
    return names, options


def fill(schema: dict[str, Any], found: list[Found], root: dict[str, Any] | None = None) -> Any:
    """A JSON value matching `schema` that reports `found` in its first array-of-objects property."""
    root = schema if root is None else root
    schema = resolve(schema, root)
    props = schema.get("properties") or {}
    array_name = next((n for n, s in props.items() if "array" in _types(resolve(s, root), root)[0]), None)
    out = {}
    for name, sub in props.items():
        if name == array_name:
            options = _types(resolve(sub, root), root)[1]
            array = next((o for o in options if o.get("type") == "array" or "items" in o), {})
            items = resolve(array.get("items") or {}, root)
            out[name] = [_fill_item(items, f, root) for f in found]
        else:
            out[name] = _value(resolve(sub, root), root, None)
    return out


def _fill_item(schema: dict[str, Any], item: Found, root: dict[str, Any]) -> Any:
    types, _ = _types(schema, root)
    if "object" not in types and "properties" not in schema:
        return _value(schema, root, item.tracking_number)
    out = {}
    for name, sub in (schema.get("properties") or {}).items():
        sub = resolve(sub, root)
        enum = next((o["enum"] for o in _types(sub, root)[1] if "enum" in o), None)
        if enum is not None and name in ("carrier", "courier"):  # an enum may list codes or display names
            out[name] = next((_pick_enum(enum, k, False) for k in (item.courier, item.carrier)
                              if _enum_hit(enum, k)), _pick_enum(enum, None, "null" in _types(sub, root)[0]))
        else:
            out[name] = _value(sub, root, item.value(name))
    return out


def _enum_hit(enum: list[Any], known: str) -> bool:
    wanted = re.sub(r"[^a-z0-9]", "", known.lower())
    return any(re.sub(r"[^a-z0-9]", "", str(o).lower()) == wanted for o in enum)


def _value(schema: dict[str, Any], root: dict[str, Any], known: Any) -> Any:
    """`known` coerced to the schema's type, or the type's empty value (null when nullable)."""
    types, options = _types(schema, root)
    enum = next((o["enum"] for o in options if "enum" in o), None)
    if enum is not None:
        return _pick_enum(enum, known, "null" in types)
    if known is None:
        if "null" in types or not types:
            return None
        if types[0] == "object":
            return fill(next((o for o in options if o.get("type") == "object"), options[0]), [], root)
        return {"string": "", "number": 0, "integer": 0, "boolean": False, "array": []}.get(types[0])
    if "number" in types:
        return float(known) if isinstance(known, (int, float)) else 0.0
    if "integer" in types:
        return int(known) if isinstance(known, (int, float)) else 0
    if "string" in types:
        return str(known)
    return known


def _pick_enum(enum: list[Any], known: Any, nullable: bool) -> Any:
    if isinstance(known, float):  # a confidence given as a word
        known = "high" if known >= 0.85 else "medium" if known >= 0.6 else "low"
    wanted = re.sub(r"[^a-z0-9]", "", str(known).lower()) if known is not None else None
    for option in enum:
        if wanted and re.sub(r"[^a-z0-9]", "", str(option).lower()) == wanted:
            return option
    if known is None and (nullable or None in enum):
        return None
    return next((o for o in enum if o is not None), None)


def default_answer(found: list[Found]) -> dict[str, Any]:
    """The answer when a request carries no schema (json_object or plain text)."""
    return {"shipments": [{name: item.value(name) for name in sorted(_KNOWN)} for item in found]}
