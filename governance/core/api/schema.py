"""OpenAPI post-processing: document the error answers every endpoint can give (ARCHITECTURE.md, API contract)."""

from governance.core import moments

ERROR_SCHEMAS = {
    "ValidationErrorBody": {
        "type": "object",
        "description": "Each invalid field (or non_field_errors) with its messages.",
        "additionalProperties": {"oneOf": [{"type": "array", "items": {}}, {"type": "object"}, {"type": "string"}]},
    },
    "ErrorDetail": {
        "type": "object",
        "properties": {"detail": {"type": "string"}},
        "required": ["detail"],
    },
    "ConflictBody": {
        "type": "object",
        "properties": {"detail": {"type": "string"}, "reasons": {"type": "array", "items": {"type": "string"}}},
        "required": ["detail", "reasons"],
    },
}


def _ref(name):
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}


def add_error_responses(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {}).update(ERROR_SCHEMAS)
    for path, methods in result.get("paths", {}).items():
        for method, operation in methods.items():
            responses = operation.setdefault("responses", {})
            responses.setdefault("400", {"description": "Invalid input", "content": _ref("ValidationErrorBody")})
            if path != "/api/v1/auth/token/":
                responses.setdefault("401", {"description": "Not authenticated", "content": _ref("ErrorDetail")})
                responses.setdefault("403", {"description": "Visible but not allowed", "content": _ref("ErrorDetail")})
                responses.setdefault("404", {"description": "Absent or not visible", "content": _ref("ErrorDetail")})
            if method in ("post", "patch", "put"):
                responses.setdefault(
                    "409", {"description": "Conflicts with the current state", "content": _ref("ConflictBody")}
                )
                # A signature's password or code, wrong too often: signing locked for a while (Retry-After).
                responses.setdefault(
                    "429", {"description": "Signing locked after wrong answers", "content": _ref("ValidationErrorBody")}
                )
            responses.setdefault("405", {"description": "Method not allowed", "content": _ref("ErrorDetail")})
            responses.setdefault("406", {"description": "Not acceptable", "content": _ref("ErrorDetail")})
            responses.setdefault("415", {"description": "Unsupported media type", "content": _ref("ErrorDetail")})
            for parameter in operation.get("parameters", []):
                _say_time_range(parameter.get("schema", {}), parameter)
    for name, component in result["components"]["schemas"].items():
        if name.endswith("Request"):  # what clients send (COMPONENT_SPLIT_REQUEST)
            for prop in component.get("properties", {}).values():
                _say_time_range(prop, prop)
    return result


def _say_time_range(schema: dict, described: dict) -> None:
    """A date or time a client sends is refused outside Vigil's range (governance.core.moments): say so."""
    if schema.get("format") in ("date", "date-time"):
        note = f"Accepted {moments.RANGE_TEXT}."
        if note not in described.get("description", ""):
            described["description"] = f"{described.get('description', '')} {note}".strip()
