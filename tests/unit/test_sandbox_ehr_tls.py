"""The local certificate authority: generated once, reused, and its leaves chain to it."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from cryptography import x509

from sandbox.ehr.tls import ensure_local_ca


def _leaf(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificates(path.read_bytes())[0]


def test_tls_generates_ca_and_server_certificates(tmp_path):
    ca = ensure_local_ca(tmp_path)
    authority = x509.load_pem_x509_certificate(ca.ca_path.read_bytes())
    for host in ("127.0.0.1", "localhost"):
        leaf = _leaf(ca.servers[host].cert_path)
        leaf.verify_directly_issued_by(authority)
        names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        if host == "localhost":
            assert names.get_values_for_type(x509.DNSName) == ["localhost"]
        else:
            assert names.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address(host)]
    assert oct(ca.ca_key_path.stat().st_mode & 0o777) == "0o600"
    assert ca.server_ssl_context("127.0.0.1") is not None


def test_tls_second_start_reuses_the_files(tmp_path):
    first = ensure_local_ca(tmp_path)
    before = first.ca_path.read_bytes(), first.servers["localhost"].cert_path.read_bytes()
    second = ensure_local_ca(tmp_path)
    after = second.ca_path.read_bytes(), second.servers["localhost"].cert_path.read_bytes()
    assert before == after


def test_tls_new_ca_reissues_the_leaves(tmp_path):
    first = ensure_local_ca(tmp_path)
    first.ca_path.unlink()
    second = ensure_local_ca(tmp_path)
    authority = x509.load_pem_x509_certificate(second.ca_path.read_bytes())
    _leaf(second.servers["127.0.0.1"].cert_path).verify_directly_issued_by(authority)
