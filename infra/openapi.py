"""The OpenAPI document of the whole API (`GET /api/openapi.json`), generated from the code.

Each function's Powertools resolver describes its own routes (with the request models of the validating
ones); this merges them into one document and adds, from infra/topology/, how each route authenticates:
a Cognito ID token (`Authorization: Bearer ...`), a website's `X-API-Key`, or a provider's signature.

A deployed function ships only its own folder, so the document cannot be assembled inside Lambda:
`make layer` writes it into the layer (bookinghub/openapi.json) and `make run` writes it to .hub/ and
points the functions at it (HUB_OPENAPI_DOCUMENT). `python -m infra.openapi` prints it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from infra import topology

TITLE = "bookinghub API"
VERSION = "1.0.0"
DOCUMENT_NAME = "openapi.json"
DESCRIPTION = (
    "Booking integration hub. Source websites sync bookings with their `X-API-Key`; Stripe and Beds24 "
    "call their webhooks, verified by signature or token; operators use the admin routes with a Cognito ID "
    "token as `Authorization: Bearer <token>` (locally: `bookinghub token --role superadmin`)."
)
SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "cognito": {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "A Cognito ID token of the operators' user pool: `Bearer <token>`",
    },
    "websiteApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key", "description": "A website's API key"},
}
AUTH_SECURITY: dict[str, list[dict[str, list[str]]]] = {
    "cognito": [{"cognito": []}],
    "api_key": [{"websiteApiKey": []}],
    "signature": [],  # Stripe-Signature / Beds24 token or signature, checked by the function
    "public": [],
}


# Routes whose function parses its body itself (strict JSON, raw bytes for signatures): their models
REQUEST_MODELS: dict[tuple[str, str], str] = {
    ("POST", "/api/bookings/sync"): "bookinghub.bookings.models.sync:BookingSyncRequest",
}


def _request_body(reference: str, schemas: dict[str, Any]) -> dict[str, Any]:
    import importlib

    module_name, _, name = reference.partition(":")
    model = getattr(importlib.import_module(module_name), name)
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(schema.pop("$defs", {}))
    schemas[name] = schema
    ref = {"$ref": f"#/components/schemas/{name}"}
    return {"required": True, "content": {"application/json": {"schema": ref}}}


def _resolver_document(function: topology.Function) -> dict[str, Any]:
    from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn

    from infra.local.invoke import handler_module

    app = getattr(handler_module(function), "app", None)
    if app is None:
        return {}
    # The validating resolvers name the Cognito scheme on their routes; it must be declared to generate
    cognito = APIKey(name="Authorization", in_=APIKeyIn.header)
    schema = app.get_openapi_json_schema(title=TITLE, version=VERSION, security_schemes={"cognito": cognito})
    document: dict[str, Any] = json.loads(schema)
    return document


def whole_api_document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Any] = {}
    for function in topology.FUNCTIONS:
        if not function.routes:
            continue
        generated = _resolver_document(function)
        schemas.update(generated.get("components", {}).get("schemas", {}))
        for route in function.routes:
            operation = dict(generated.get("paths", {}).get(route.path, {}).get(route.method.lower(), {}))
            if not operation:  # a resolver that does not describe it still gets an entry
                operation = {"summary": f"{route.method} {route.path}", "responses": {"200": {"description": "OK"}}}
            operation["security"] = AUTH_SECURITY[route.auth or "public"]
            if (route.method, route.path) in REQUEST_MODELS and "requestBody" not in operation:
                operation["requestBody"] = _request_body(REQUEST_MODELS[(route.method, route.path)], schemas)
            operation.setdefault("tags", [function.name])
            operation["description"] = (operation.get("description") or function.description).strip()
            paths.setdefault(route.path, {})[route.method.lower()] = operation
    return {
        "openapi": "3.0.3",
        "info": {"title": TITLE, "version": VERSION, "description": DESCRIPTION},
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": dict(sorted(schemas.items())), "securitySchemes": SECURITY_SCHEMES},
    }


def write_document(directory: Path) -> Path:
    path = directory / DOCUMENT_NAME
    path.write_text(json.dumps(whole_api_document(), indent=1, sort_keys=False) + "\n")
    return path


if __name__ == "__main__":
    json.dump(whole_api_document(), sys.stdout, indent=2)
    print()
