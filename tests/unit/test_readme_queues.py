"""README's architecture notes state each queue's max receive count as the topology declares it (issue 10:
they said every queue had 5 while PassIssuance has 31, then named only some of the queues)."""

from __future__ import annotations

import re
from pathlib import Path

from infra.topology import QUEUES

README = Path(__file__).resolve().parents[2] / "README.md"


def _stated_receive_counts() -> dict[str, int]:
    text = " ".join(README.read_text().split())  # the paragraph's line breaks as spaces
    stated = {name: int(n) for name, n in re.findall(r"(\w+) moves a message to its DLQ after (\d+) receives", text)}
    other = re.search(r"every other queue \(([^)]+)\) after (\d+)", text)
    assert other, "README no longer says what every other queue's max receive count is"
    for name in re.split(r",\s*", other[1]):
        assert name not in stated, f"{name} is stated twice"
        stated[name] = int(other[2])
    return stated


def test_the_readme_states_every_queues_max_receive_count_as_the_topology_has_it() -> None:
    assert _stated_receive_counts() == {queue.name: queue.max_receive_count for queue in QUEUES}
