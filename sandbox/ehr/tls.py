"""Local certificate authority: a CA and server certificates for 127.0.0.1 and localhost.

Generated with `cryptography` at first start into a git-ignored folder and reused after. HTTPS is
needed because `SameSite=None` cookies must be `Secure`, and the chart (127.0.0.1) and the app
(localhost) are two different sites, as an EHR and an embedded app are.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_VALIDITY = dt.timedelta(days=3650)
LEAF_VALIDITY = dt.timedelta(days=365)
RENEW_BEFORE = dt.timedelta(days=30)
HOSTS = ("127.0.0.1", "localhost")


@dataclass(frozen=True, slots=True)
class ServerCert:
    """A server certificate (PEM, with the CA after it) and its private key."""

    cert_path: Path
    key_path: Path


@dataclass(frozen=True, slots=True)
class LocalCA:
    """The files of the local certificate authority; point HTTPS clients at `ca_path`."""

    ca_path: Path
    ca_key_path: Path
    servers: dict[str, ServerCert]

    def server_ssl_context(self, host: str) -> ssl.SSLContext:
        """A TLS server context presenting the certificate for `host`."""
        cert = self.servers[host]
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(cert.cert_path, cert.key_path)
        return context


def ensure_local_ca(folder: Path) -> LocalCA:
    """Create the CA and server certificates in `folder` if missing or expiring; return them."""
    folder.mkdir(parents=True, exist_ok=True)
    ca_path, ca_key_path = folder / "ca.pem", folder / "ca-key.pem"
    now = dt.datetime.now(dt.UTC)
    if not (_valid(ca_path, now) and ca_key_path.exists()):
        ca_key = ec.generate_private_key(ec.SECP256R1())
        _write_key(ca_key_path, ca_key)
        ca_path.write_bytes(_ca_certificate(ca_key, now).public_bytes(serialization.Encoding.PEM))
        for host in HOSTS:  # leaves signed by an older CA no longer chain
            (folder / f"{host}.pem").unlink(missing_ok=True)
    ca_cert = x509.load_pem_x509_certificate(ca_path.read_bytes())
    ca_key_loaded = serialization.load_pem_private_key(ca_key_path.read_bytes(), password=None)
    if not isinstance(ca_key_loaded, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{ca_key_path} is not an EC private key; delete {folder} to regenerate")
    servers = {}
    for host in HOSTS:
        cert_path, key_path = folder / f"{host}.pem", folder / f"{host}-key.pem"
        if not (_valid(cert_path, now) and key_path.exists()):
            key = ec.generate_private_key(ec.SECP256R1())
            _write_key(key_path, key)
            leaf = _server_certificate(host, key, ca_cert, ca_key_loaded, now)
            pem = leaf.public_bytes(serialization.Encoding.PEM)
            cert_path.write_bytes(pem + ca_cert.public_bytes(serialization.Encoding.PEM))
        servers[host] = ServerCert(cert_path, key_path)
    return LocalCA(ca_path, ca_key_path, servers)


def _valid(path: Path, now: dt.datetime) -> bool:
    if not path.exists():
        return False
    try:
        cert = x509.load_pem_x509_certificate(path.read_bytes())
    except ValueError:
        return False
    return cert.not_valid_after_utc - RENEW_BEFORE > now


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)


def _ca_certificate(key: ec.EllipticCurvePrivateKey, now: dt.datetime) -> x509.Certificate:
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Clozapine SMART app sandbox"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Sandbox EHR local CA (development only)"),
        ]
    )
    public = key.public_key()
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )


def _server_certificate(
    host: str,
    key: ec.EllipticCurvePrivateKey,
    ca_cert: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
    now: dt.datetime,
) -> x509.Certificate:
    try:
        san: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        san = x509.DNSName(host)
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + LEAF_VALIDITY)
        .add_extension(x509.SubjectAlternativeName([san]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
