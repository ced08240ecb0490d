"""Infrastructure: the topology (declared once) and its two renderings, CDK and the local runtime."""
