"""GET /api/openapi.json describes the whole API: every topology route, with how it authenticates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra import topology
from infra.openapi import AUTH_SECURITY, whole_api_document, write_document


@pytest.fixture(scope="module")
def document() -> dict:
    return whole_api_document()


def test_every_route_of_every_function_is_described_once(document: dict) -> None:
    described = {(method.upper(), path) for path, ops in document["paths"].items() for method in ops}
    declared = {(route.method, route.path) for route, _ in topology.all_routes()}
    assert described == declared


@pytest.mark.parametrize(("route", "function"), topology.all_routes(), ids=lambda r: getattr(r, "path", ""))
def test_each_route_says_how_it_authenticates(document: dict, route: topology.Route, function: object) -> None:
    operation = document["paths"][route.path][route.method.lower()]
    assert operation["security"] == AUTH_SECURITY[route.auth or "public"]
    for requirement in operation["security"]:
        assert set(requirement) <= set(document["components"]["securitySchemes"])


def test_bodies_are_described_by_their_models(document: dict) -> None:
    schemas = document["components"]["schemas"]
    sync = document["paths"]["/api/bookings/sync"]["post"]["requestBody"]["content"]["application/json"]
    assert sync["schema"] == {"$ref": "#/components/schemas/BookingSyncRequest"}
    assert "source_booking_id" in schemas["BookingSyncRequest"]["properties"]
    beds24 = document["paths"]["/api/integrations/beds24/sync"]["post"]["requestBody"]
    assert beds24["content"]["application/json"]["schema"]["$ref"].endswith("/SyncRequest")
    # every reference resolves
    text = json.dumps(document)
    for name in {part.split('"')[0] for part in text.split("#/components/schemas/")[1:]}:
        assert name in schemas, name


def test_the_written_document_is_the_generated_one(tmp_path: Path, document: dict) -> None:
    written = write_document(tmp_path)
    assert json.loads(written.read_text()) == document
