"""The local rendering of the topology: `make run` (python -m infra.local)."""
