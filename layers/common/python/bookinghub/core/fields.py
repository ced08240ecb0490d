"""Field types and the body base shared by more than one domain's models (admin bodies, sync payload)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)]
Url = Annotated[str, StringConstraints(strip_whitespace=True, min_length=8, max_length=2000)]
OrganisationId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")]


class AdminBody(BaseModel):
    """An admin API body: unknown fields are an error (Powertools validates it against this model).

    Built at first use, not at import (defer_build): the admin API imports every domain's bodies and one
    request validates one of them.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)


def require_some(model: BaseModel) -> None:
    """A patch must change something (`version` alone names what is edited, not a change)."""
    if not model.model_fields_set - {"version"}:
        raise ValueError("at least one field to change is required")
