"""One Logger, Tracer and Metrics for the whole process.

Service name, log level, namespace and sampling come from Powertools' own env vars
(POWERTOOLS_SERVICE_NAME, POWERTOOLS_LOG_LEVEL, POWERTOOLS_METRICS_NAMESPACE), set by the renderers.
Tracer patches only botocore and requests: patching everything imports every supported library.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger(service="bookinghub")
tracer = Tracer(service="bookinghub", patch_modules=("botocore", "requests"))
metrics = Metrics(namespace="BookingHub", service="bookinghub")
