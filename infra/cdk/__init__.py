"""CDK rendering of infra/topology/, split by concern: data, functions, api, nag suppressions."""
