"""One Logger, Tracer and Metrics for the whole process.

Service name, log level, namespace and sampling come from Powertools' own env vars
(POWERTOOLS_SERVICE_NAME, POWERTOOLS_LOG_LEVEL, POWERTOOLS_METRICS_NAMESPACE), set by the renderers.
Tracer patches only botocore and requests: patching everything imports every supported library.
"""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics, Tracer

# Powertools' env vars win; the defaults keep tests and scripts from reporting "service_undefined".
_SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "bookinghub")
_NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "BookingHub")

logger = Logger(service=_SERVICE)
tracer = Tracer(service=_SERVICE, patch_modules=("botocore", "requests"))
metrics = Metrics(namespace=_NAMESPACE, service=_SERVICE)
