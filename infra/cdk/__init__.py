"""CDK rendering of infra/topology.py, split by concern: data, functions, api, nag suppressions."""
