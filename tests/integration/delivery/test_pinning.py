"""The delivery connection goes to the address the SSRF check saw, over real loopback sockets: plain
http to a rebinding name, and https whose certificate is verified for the original hostname (a test CA
made with `cryptography`, a TLS receiver on 127.0.0.1)."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from bookinghub.delivery.adapters import http
from tests.integration.rebinding import rebinding_localhost, serve


class _Recorder(BaseHTTPRequestHandler):
    seen: list[tuple[str, str]]

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.seen.append((self.server.server_address[0], self.headers["Host"]))  # type: ignore[attr-defined,index]
        cookies = getattr(self.server, "cookies", None)
        if cookies is not None:
            cookies.append(self.headers.get("Cookie"))
        self.send_response(200)
        self.send_header("Set-Cookie", "sid=from-this-receiver; Path=/")  # never to be sent back
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


_COOKIES: list[list[str | None]] = []  # the TLS receiver's Cookie headers


def _serve(address: str, port: int, context: ssl.SSLContext | None = None) -> ThreadingHTTPServer:
    return serve(address, port, _Recorder, context)


def test_a_name_that_rebinds_after_the_check_still_reaches_the_checked_address(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # localhost, as plain http is allowed only to a loopback name (the stage: tests/integration/rebinding.py)
    with rebinding_localhost(monkeypatch, _Recorder) as (port, checked, private):
        for _ in range(3):  # also on a kept-alive connection
            result = http.post(
                f"http://localhost:{port}/in",
                b"{}",
                {},
                timeout_seconds=5,
                allow_insecure_loopback=True,
                session=http.new_session(),
                resolver=lambda _: ["127.0.0.1"],
            )
            assert result.status_code == 200
    assert private.seen == []  # type: ignore[attr-defined]
    assert checked.seen == [("127.0.0.1", f"localhost:{port}")] * 3  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path, list[str]]]:
    """A TLS receiver on 127.0.0.1 with a certificate for hooks.test only; yields its port, the CA file
    and the SNI names it was greeted with."""
    folder = tmp_path_factory.mktemp("tls")
    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bookinghub test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hooks.test")]))
        .issuer_name(ca_name)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("hooks.test")]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    (folder / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (folder / "leaf.pem").write_bytes(
        leaf.public_bytes(serialization.Encoding.PEM)
        + leaf_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(folder / "leaf.pem")
    names: list[str] = []
    context.sni_callback = lambda _sock, name, _ctx: names.append(name or "")  # type: ignore[assignment,func-returns-value]
    server = _serve("127.0.0.1", 0, context)
    server.cookies = []  # type: ignore[attr-defined]  # the Cookie header of each request (None: none)
    _COOKIES[:] = [server.cookies]  # type: ignore[attr-defined]
    yield server.server_address[1], folder / "ca.pem", names
    server.shutdown()


def _tls_post(host: str, port: int, ca: Path, session: Any = None) -> http.HttpResult:
    if session is None:
        session = http.new_session()
        session.verify = str(ca)
    return http.post(
        f"https://{host}:{port}/in",
        b"{}",
        {},
        timeout_seconds=5,
        allow_insecure_loopback=True,
        session=session,
        resolver=lambda _: ["127.0.0.1"],
    )


def test_https_to_the_pinned_address_verifies_the_certificate_for_the_hostname(
    tls: tuple[int, Path, list[str]],
) -> None:
    port, ca, names = tls
    assert _tls_post("hooks.test", port, ca).status_code == 200
    assert names[-1] == "hooks.test"  # SNI is the name, not the address


def test_https_through_the_pinned_adapter_keeps_no_cookie(tls: tuple[int, Path, list[str]]) -> None:
    port, ca, _ = tls
    session = http.new_session()
    session.verify = str(ca)
    del _COOKIES[0][:]
    for _ in range(3):  # the receiver sets a cookie each time; one kept-alive session to the same name
        assert _tls_post("hooks.test", port, ca, session).status_code == 200
    assert _COOKIES[0] == [None, None, None]
    assert len(session.cookies) == 0


def test_https_refuses_a_certificate_for_another_name(tls: tuple[int, Path, list[str]]) -> None:
    port, ca, names = tls
    result = _tls_post("other.test", port, ca)
    assert result.status_code is None
    assert "SSLError" in (result.error or "")
    assert names[-1] == "other.test"


def test_https_refuses_an_untrusted_certificate(tls: tuple[int, Path, list[str]]) -> None:
    port, _, _ = tls
    result = http.post(
        f"https://hooks.test:{port}/in",
        b"{}",
        {},
        timeout_seconds=5,
        allow_insecure_loopback=True,
        session=http.new_session(),  # the system's CAs, which never signed the test CA
        resolver=lambda _: ["127.0.0.1"],
    )
    assert result.status_code is None
    assert "SSLError" in (result.error or "")


def test_an_ip_literal_url_is_sent_as_is() -> None:
    pinned = http.check_url("http://127.0.0.1:8080/x", allow_insecure_loopback=True)
    assert (pinned.url, pinned.host_header) == ("http://127.0.0.1:8080/x", "127.0.0.1:8080")
    assert ipaddress.ip_address(pinned.hostname).is_loopback
