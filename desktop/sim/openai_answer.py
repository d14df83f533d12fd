"""OpenAI double, answer side: read the text and JSON schema of a request, check the schema, fill it.

- The text analysed is the USER content only (the system prompt may quote example numbers); what the model
  makes of it is `openai_reader`'s business (the simulator's own reading, with a small model's mistakes).
- `strict_problem` applies the Structured Outputs rules the real API enforces on a strict schema, with its
  wording ("Invalid schema for response_format 'NAME': In context=(...), ...").
- The schema is filled generically: the top-level object's first array-of-objects property receives the
  shipments; item properties with known names get values, every other property gets null/""/0/false/[].
"""

from __future__ import annotations

import re
from typing import Any

from desktop.sim.openai_reader import KNOWN_FIELDS, Found

#: Structured Outputs limits (OpenAI's guide): nesting depth and the names a schema may have.
MAX_DEPTH = 10
_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


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


def request_format(body: dict[str, Any], kind: str) -> dict[str, Any] | None:
    """The `json_schema` format object of a request (chat: response_format.json_schema; responses:
    text.format), or None when the request asks for no JSON schema."""
    if kind == "chat":
        fmt = body.get("response_format") or {}
        spec = fmt.get("json_schema") if isinstance(fmt, dict) and fmt.get("type") == "json_schema" else None
    else:
        spec = (body.get("text") or {}).get("format") or {}
        spec = spec if spec.get("type") == "json_schema" else None
    return spec if isinstance(spec, dict) else None


def request_schema(body: dict[str, Any], kind: str) -> tuple[dict[str, Any] | None, bool]:
    """(JSON schema, strict) from response_format (chat) or text.format (responses); (None, False) if none."""
    spec = request_format(body, kind) or {}
    schema = spec.get("schema")
    return (schema if isinstance(schema, dict) else None), bool(spec.get("strict"))


def format_problem(spec: dict[str, Any], kind: str, strict_rules: bool) -> tuple[str, str, str | None] | None:
    """(message, param, code) of the 400 the real API gives for this json_schema format, or None.

    The name must match ^[a-zA-Z0-9_-]+$ (64 at most); with `strict` (and `strict_rules`) the schema must
    follow the Structured Outputs subset: an object at the root, every object closed with
    `additionalProperties: false` and listing every property in `required`, at most 10 levels deep."""
    where = "response_format.json_schema" if kind == "chat" else "text.format"
    name = spec.get("name")
    if not isinstance(name, str):
        return f"Missing required parameter: '{where}.name'.", f"{where}.name", "missing_required_parameter"
    if not _NAME.match(name):
        return (f"Invalid '{where}.name': string does not match pattern. Expected a string that matches the "
                "pattern '^[a-zA-Z0-9_-]+$'.", f"{where}.name", "invalid_value")
    schema = spec.get("schema")
    if not (spec.get("strict") and strict_rules and isinstance(schema, dict)):
        return None
    problem = strict_problem(schema)
    if problem is None:
        return None
    return (f"Invalid schema for response_format '{name}': {problem}",
            "response_format" if kind == "chat" else "text.format.schema", "invalid_json_schema")


def strict_problem(schema: dict[str, Any]) -> str | None:
    """The first rule of strict Structured Outputs that `schema` breaks, worded as the API words it."""
    if schema.get("type") != "object":
        return f"schema must be a JSON Schema of 'type: \"object\"', got 'type: \"{schema.get('type')}\"'."
    problems = _object_problems(schema, ())
    for name, sub in (schema.get("$defs") or schema.get("definitions") or {}).items():
        problems += _object_problems(sub, ("$defs", name))
    return problems[0] if problems else None


def _object_problems(schema: Any, context: tuple[str, ...]) -> list[str]:
    if not isinstance(schema, dict):
        return []
    if len([c for c in context if c not in ("properties", "items", "anyOf", "$defs")]) > MAX_DEPTH:
        return [f"In context={context!r}, exceeded the maximum nesting depth of {MAX_DEPTH}."]
    problems: list[str] = []
    if schema.get("type") == "object" or "properties" in schema:
        props = schema.get("properties") or {}
        if schema.get("additionalProperties") is not False:
            problems.append(f"In context={context!r}, 'additionalProperties' is required to be supplied and "
                            "to be false.")
        missing = [key for key in props if key not in (schema.get("required") or [])]
        if missing:
            problems.append(f"In context={context!r}, 'required' is required to be supplied and to be an array "
                            f"including every key in properties. Missing '{missing[0]}'.")
        for name, sub in props.items():
            problems += _object_problems(sub, (*context, "properties", name))
    if isinstance(schema.get("items"), dict):
        problems += _object_problems(schema["items"], (*context, "items"))
    for index, option in enumerate(schema.get("anyOf") or []):
        problems += _object_problems(option, (*context, "anyOf", str(index)))
    return problems


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
    return {"shipments": [{name: item.value(name) for name in sorted(KNOWN_FIELDS)} for item in found]}
