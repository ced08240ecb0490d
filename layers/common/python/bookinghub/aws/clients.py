"""Lazily created, cached AWS clients (DynamoDB item conversion is aws/codec.py).

Nothing here runs at import time: botocore is imported on first use, so a handler that never touches AWS
(or has not yet) pays nothing for it. Endpoints come from botocore's own configuration, so the local
runtime only sets AWS_ENDPOINT_URL and the code never special-cases it.

Every client comes from one botocore Session: a Session has its own loader, so a second one reads and
parses botocore's endpoint, partition and defaults data again (~12 ms a client). Sessions are not
thread-safe, clients are: creation is serialised by a lock. `client.cache_clear()` (tests, the local
runtime, after changing the environment) also starts a new Session with the next client.

botocore's Session, not boto3's: a boto3 client is a botocore client (same class, same calls, same
config), and boto3 adds only resources, S3 transfers and its user agent, none used here. Importing boto3
costs ~20 ms of a cold start on top of botocore (s3transfer, multiprocessing, the resource factory);
Powertools' idempotency store and secrets provider still import it themselves where they are used.

The Session's data loader finds a service's model in that service's own directory (`_load_service_model`):
botocore's Loader first lists every service it has (~450 directories walked, once for the service model
and once for its endpoint rules: ~18 ms of the first client, a tenth of `import boto3` + one client) only
to check that the name is among them.
"""

from __future__ import annotations

import threading
from functools import cache
from typing import Any

from bookinghub.core.observability import trace_library

_creating = threading.Lock()
_shared: list[Any] = []  # the Session of the clients in client()'s cache


def _session() -> Any:
    """The shared Session; a new one when client()'s cache is empty (first use, or just cleared)."""
    if not _shared or client.cache_info().currsize == 0:
        from botocore.session import Session

        trace_library("botocore")  # before the first client: calls show up as X-Ray subsegments
        session = Session()
        session.register_component("data_loader", _service_loader(session.get_config_variable("data_path")))
        _shared[:] = [session]
    return _shared[0]


def _service_loader(data_path: str | None) -> Any:
    """botocore's Loader (as botocore.loaders.create_loader makes it, AWS_DATA_PATH first), with a service's
    model looked up in its own directory: the same models and errors, without listing every service."""
    import json
    import os

    from botocore.exceptions import DataNotFoundError, UnknownServiceError
    from botocore.loaders import JSONFileLoader, Loader, instance_cache

    class PlainJSONFileLoader(JSONFileLoader):  # type: ignore[misc]  # botocore is untyped
        """botocore's JSON loader with plain dicts: botocore parses with `object_pairs_hook=OrderedDict`,
        which doubles the parse of endpoints.json (1.2 MB, every Session's first client: ~38 -> ~17 ms)
        and of each service model. A dict keeps the file's order too (3.7+), and botocore reads these
        as mappings only: it copies what it keeps into its own OrderedDicts (botocore.model)."""

        def _load_file(self, full_path: str, open_method: Any) -> Any:
            if not os.path.isfile(full_path):
                return None
            with open_method(full_path, "rb") as fp:
                return json.loads(fp.read().decode("utf-8"))

    class ServiceLoader(Loader):  # type: ignore[misc]  # botocore is untyped
        FILE_LOADER_CLASS = PlainJSONFileLoader

        @instance_cache  # type: ignore[misc]
        def load_service_model(self, service_name: str, type_name: str, api_version: str | None = None) -> Any:
            try:
                # botocore's own steps after its check: the latest version that has the type, then its data
                version = api_version or self.determine_latest_version(service_name, type_name)
                model = self.load_data(os.path.join(service_name, version, type_name))
            except DataNotFoundError:
                known = self.list_available_services(type_name)  # the check, on the failing path only
                if service_name in known:
                    raise
                raise UnknownServiceError(service_name=service_name, known_service_names=", ".join(known)) from None
            self._extras_processor.process(model, self._find_extras(service_name, type_name, version))
            return model

    extra = [os.path.expanduser(os.path.expandvars(path)) for path in data_path.split(os.pathsep)] if data_path else []
    return ServiceLoader(extra_search_paths=extra) if extra else ServiceLoader()


@cache
def client(service: str) -> Any:
    with _creating:  # functools.cache alone would let two threads build clients from one Session at once
        return _new_client(service)


def _new_client(service: str) -> Any:
    from botocore.config import Config

    # Short timeouts and standard retries: a Lambda has a hard deadline; better to fail and let the
    # queue retry than to hang. See worst_case_call_seconds: a call's retries end inside the function.
    from bookinghub.core.settings import get_settings

    read_timeout = get_settings().aws_read_timeout_seconds
    config = Config(
        retries={"mode": "standard", "max_attempts": AWS_MAX_ATTEMPTS},
        connect_timeout=AWS_CONNECT_TIMEOUT_SECONDS,
        read_timeout=read_timeout,
    )
    return _with_exceptions(_session().create_client(service, config=config))


def _with_exceptions(created: Any) -> Any:
    # botocore builds a client's exception classes at their first use, unguarded: two threads meeting their
    # first error at once could each build a set, so one thread's `except client.exceptions.X` missed the
    # X the other's call raised. Built here, under the creation lock, before any thread has the client.
    created.exceptions  # noqa: B018 - the property's side effect is the point
    return created


@cache
def endpoint_client(service: str, endpoint_url: str, *, max_pool_connections: int = 10) -> Any:
    """A client of a service reached at an endpoint of its own (API Gateway's management API is one per
    stage: its callback URL), with the same call budget as `client`."""
    from botocore.config import Config

    config = Config(
        retries={"mode": "standard", "max_attempts": AWS_MAX_ATTEMPTS},
        connect_timeout=AWS_CONNECT_TIMEOUT_SECONDS,
        read_timeout=5,
        max_pool_connections=max_pool_connections,
    )
    with _creating:
        return _with_exceptions(_session().create_client(service, endpoint_url=endpoint_url, config=config))


AWS_MAX_ATTEMPTS = 2  # the first try and one retry (a retried transaction is safe: ClientRequestToken)
AWS_CONNECT_TIMEOUT_SECONDS = 1.0
_STANDARD_MAX_BACKOFF_SECONDS = 20.0  # botocore standard mode: sleep rand(0, 1) x 2^(retry - 1), at most 20 s


def worst_case_call_seconds(read_timeout: float) -> float:
    """How long one AWS call can take when every attempt times out: attempts x (connect + read), plus
    the backoff before each retry. With the defaults, 2 x (1 + 2) + 1 = 7 s: inside the shortest timeout
    of a function that calls AWS (10 s, sync_bookings), with time left for the rest of the request, so
    a retry that finds its write done (ClientRequestToken) still answers before Lambda cuts it off.
    Three attempts would be 3 x 3 + 1 + 2 = 12 s, past that deadline."""
    backoff = sum(min(_STANDARD_MAX_BACKOFF_SECONDS, 2.0**retry) for retry in range(AWS_MAX_ATTEMPTS - 1))
    return AWS_MAX_ATTEMPTS * (AWS_CONNECT_TIMEOUT_SECONDS + read_timeout) + backoff
