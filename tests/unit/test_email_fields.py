"""Email fields of request bodies use pydantic's email validation (issue 10), not a hand-written pattern.

An operator's Beds24 reservation edit took any `x@y` (a pattern `^[^@\\s]+@[^@\\s]+$`) where the sync API
and Stripe's metadata refuse it.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Annotated, Any, get_args, get_origin

import pytest
from pydantic import BaseModel, ValidationError

import bookinghub
from bookinghub.beds24.models.admin import ReservationEdit


@pytest.mark.parametrize("email", ["a@b", "anna..lee@example.com", "anna@exa_mple.com", "anna lee@example.com"])
def test_a_reservation_edit_refuses_what_is_no_email_address(email: str) -> None:
    with pytest.raises(ValidationError) as raised:
        ReservationEdit.model_validate({"guest_email": email})
    assert [error["loc"] for error in raised.value.errors()] == [("guest_email",)]


def test_a_reservation_edit_takes_an_email_address() -> None:
    edit = ReservationEdit.model_validate({"guest_email": "anna.lee@example.com"})
    assert edit.fields() == {"guest_email": "anna.lee@example.com"}


def _model_modules() -> list[str]:
    """Every `models` module, or module of a `models` package, of the shared package (found by file: some
    domains are namespace packages, which pkgutil's walk does not enter)."""
    root = Path(bookinghub.__file__).parent
    files = [*root.rglob("models.py"), *root.rglob("models/*.py")]
    return sorted(".".join(("bookinghub", *f.relative_to(root).with_suffix("").parts)) for f in files)


def _models() -> list[type[BaseModel]]:
    """Every pydantic model declared in a `models` module of the shared package."""
    found: list[type[BaseModel]] = []
    for name in _model_modules():
        module = importlib.import_module(name.removesuffix(".__init__"))
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, BaseModel) and value.__module__ == module.__name__:
                found.append(value)
    return found


def _patterns(metadata: list[Any], annotation: Any) -> list[str]:
    """The patterns constraining a field: its own metadata's and those of any `Annotated` inside its type
    (`Annotated[str, StringConstraints(pattern=...)] | None` keeps them in the union's member)."""
    found = [str(m.pattern) for m in metadata if getattr(m, "pattern", None)]
    if get_origin(annotation) is Annotated:
        inner, *extra = get_args(annotation)
        return found + _patterns(extra, inner)
    for member in get_args(annotation):
        found += _patterns([], member)
    return found


def test_no_email_field_is_checked_by_a_pattern_of_its_own() -> None:
    models = _models()
    assert ReservationEdit in models  # the walk reaches the domains' models
    patterned = [
        f"{model.__module__}.{model.__name__}.{name}: {pattern}"
        for model in models
        for name, info in model.model_fields.items()
        if "email" in name
        for pattern in _patterns(info.metadata, info.annotation)
    ]
    assert patterned == []
