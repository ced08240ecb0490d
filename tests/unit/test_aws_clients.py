"""The clients' Session loads a service's model from its own directory (aws/clients.py): the same
models and errors as botocore's Loader, without listing every service at the first client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import DataNotFoundError, UnknownServiceError
from botocore.loaders import Loader

from bookinghub.aws import clients


@pytest.fixture
def fresh_clients(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    clients.client.cache_clear()
    yield
    clients.client.cache_clear()


def _listings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    listed: list[str] = []
    original = Loader.list_available_services

    def counting(self: Any, type_name: str) -> Any:
        listed.append(type_name)
        return original(self, type_name)

    monkeypatch.setattr(Loader, "list_available_services", counting)
    return listed


@pytest.mark.parametrize("service", ["dynamodb", "sqs", "kms", "secretsmanager", "apigatewaymanagementapi"])
def test_a_client_has_botocore_s_own_model_and_lists_no_service(
    fresh_clients: None, monkeypatch: pytest.MonkeyPatch, service: str
) -> None:
    listed = _listings(monkeypatch)
    made = clients.client(service)
    assert listed == []
    reference = Loader()
    assert made.meta.service_model._service_description == reference.load_service_model(service, "service-2")
    ruleset = clients._session().get_component("data_loader").load_service_model(service, "endpoint-rule-set-1")
    assert ruleset == reference.load_service_model(service, "endpoint-rule-set-1")


def test_an_unknown_service_is_botocore_s_error(fresh_clients: None) -> None:
    with pytest.raises(UnknownServiceError, match="nosuchservice"):
        clients.client("nosuchservice")


def test_a_missing_version_of_a_known_service_is_not_called_unknown(fresh_clients: None) -> None:
    loader = clients._service_loader(None)
    with pytest.raises(DataNotFoundError) as raised:
        loader.load_service_model("dynamodb", "service-2", api_version="1999-01-01")
    assert not isinstance(raised.value, UnknownServiceError)


def test_aws_data_path_comes_first(fresh_clients: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A model in AWS_DATA_PATH overrides botocore's own (botocore's rule), and only exists there
    own = tmp_path / "ownservice" / "2020-01-01"
    own.mkdir(parents=True)
    (own / "service-2.json").write_text('{"version": "2.0", "metadata": {"endpointPrefix": "own"}}')
    loader = clients._service_loader(str(tmp_path))
    assert loader.load_service_model("ownservice", "service-2")["metadata"] == {"endpointPrefix": "own"}
    assert clients._service_loader(None).search_paths == Loader().search_paths


@pytest.mark.parametrize(
    ("name", "args"),
    [("endpoints", None), ("sdk-default-configuration", None), ("dynamodb", "service-2"), ("kms", "service-2")],
)
def test_data_files_are_botocore_s_own_in_plain_dicts_and_in_the_same_order(
    fresh_clients: None, name: str, args: str | None
) -> None:
    import json

    ours, reference = clients._service_loader(None), Loader()
    if args is None:
        loaded, expected = ours.load_data(name), reference.load_data(name)
    else:
        loaded, expected = ours.load_service_model(name, args), reference.load_service_model(name, args)
    assert type(loaded) is dict
    assert type(expected) is not dict  # botocore's own: OrderedDict
    assert json.dumps(loaded) == json.dumps(expected)  # same keys, values and order, all the way down


def test_threads_first_using_a_client_at_once_share_its_exception_classes(
    fresh_clients: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """botocore builds a client's exception classes on the first `client.exceptions`, unlocked: two threads
    there at once each built their own, and one's `except client.exceptions.X` missed the X the other's call
    raised (CI: a realtime placement's ConditionalCheckFailed escaped its `suppress`, 6 writer threads).
    The build is made slow here so that the threads always meet in it."""
    import threading
    import time

    dynamodb = clients.client("dynamodb")
    factory = dynamodb._exceptions_factory
    build = factory._create_client_exceptions

    def slow_build(service_model: Any) -> Any:
        time.sleep(0.05)
        return build(service_model)

    monkeypatch.setattr(factory, "_create_client_exceptions", slow_build)
    seen: list[Any] = []
    threads = [threading.Thread(target=lambda: seen.append(dynamodb.exceptions)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 4
    assert all(found is dynamodb.exceptions for found in seen)
    error = dynamodb.exceptions.from_code("ConditionalCheckFailedException")
    assert all(issubclass(error, found.ConditionalCheckFailedException) for found in seen)
