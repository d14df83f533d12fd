"""The services' own OpenAPI documents (`../shared/api-specs`) as JSON Schema validators.

`schema_validator(spec, pointer)` validates an instance against the schema at `pointer` (e.g.
"#/components/schemas/CreateChatCompletionRequest"), with every `$ref` of the document resolvable.
OpenAPI 3.0's `nullable: true` becomes a JSON Schema type that admits null. Tests skip where the folder
is absent (a clean clone elsewhere).
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from tests.helpers.shared import shared_dir


def load_spec(name: str) -> dict[str, Any]:
    """The spec file `name` from ../shared/api-specs, or skip the calling test."""
    base = shared_dir()
    path = base / "api-specs" / name if base else None
    if path is None or not path.is_file():
        pytest.skip("../shared/api-specs is not present on this machine")
    if name.endswith((".yaml", ".yml")):
        import yaml
        return _nullable(yaml.safe_load(path.read_text(encoding="utf-8")))
    return _nullable(json.loads(path.read_text(encoding="utf-8")))


def admitting_null(spec: dict[str, Any]) -> dict[str, Any]:
    """`spec` with null allowed wherever a type is given. Front's published spec marks nothing nullable,
    while its API sends null for an absent relation (`assignee` of an unassigned conversation,
    `message_replied_to`...): checking Front's answers against it otherwise fails on every null."""
    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            node = {key: walk(value) for key, value in node.items()}
            kind = node.get("type")
            if isinstance(kind, str) and kind != "null":
                node["type"] = [kind, "null"]
            if isinstance(node.get("enum"), list) and None not in node["enum"]:
                node["enum"] = [*node["enum"], None]
            return node
        if isinstance(node, list):
            return [walk(item) for item in node]
        return node
    return walk(spec)


def schema_validator(spec: dict[str, Any], pointer: str) -> jsonschema.Validator:
    root = {**spec, "$ref": pointer}
    return jsonschema.Draft202012Validator(root)


def errors(spec: dict[str, Any], pointer: str, instance: Any) -> list[str]:
    """Every way `instance` breaks the schema at `pointer` (empty: it conforms)."""
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"[:300]
            for e in schema_validator(spec, pointer).iter_errors(instance)]


def _nullable(node: Any) -> Any:
    if isinstance(node, dict):
        node = {key: _nullable(value) for key, value in node.items()}
        if node.pop("nullable", False) and isinstance(node.get("type"), str):
            node["type"] = [node["type"], "null"]
        return node
    if isinstance(node, list):
        return [_nullable(item) for item in node]
    return node


class Wire:
    """(request, status, parsed JSON answer or None) of every exchange, from an HTTP client's response hook
    (`event_hooks={"response": [wire.on_response]}`; httpx and httpx2 alike)."""

    def __init__(self) -> None:
        self.exchanges: list[tuple[object, int, object]] = []

    async def on_response(self, response) -> None:
        await response.aread()
        try:
            body = response.json()
        except ValueError:
            body = None
        self.exchanges.append((response.request, response.status_code, body))
