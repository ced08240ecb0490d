"""The attribute names conflict detection keeps on a booking (or reservation), apart from the rules that
use them (logic/detect.py, logic/hub_edit.py): a booking listing hides them without importing the rules
and their models (the admin API's init)."""

from __future__ import annotations

MARKERS = "hub_edits"  # the attribute holding the markers
HUB_VERSION_PREFIX = "hub_v#"  # each column's booking version when an operator last set it (bookings/logic/admin.py)
