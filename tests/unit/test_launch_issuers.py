"""The issuers file: good files load, each bad key is named, the allow-list matches exactly."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from launch import (
    DEFAULT_SCOPES,
    AuthMethod,
    ConfigurationError,
    IssuerConfig,
    LaunchError,
    ScopeVersion,
    SigningAlg,
    Vendor,
    client_secret,
    load_issuers,
)

GOOD = """
[[issuer]]
name = "Sandbox"
iss = "https://127.0.0.1:9443/fhir/"
client_id = "clozapine-smartapp"
frame_ancestors = ["https://127.0.0.1:9443/"]
tls_ca_file = "tls/ca.pem"

[[issuer]]
iss = "https://fhir.epic.example/api/FHIR/R4"
client_id = "epic-client"
auth_method = "private_key_jwt"
signing_alg = "ES384"
vendor = "epic"
scope_version = "v1"
page_size = 50
writeback = ["Task", "DocumentReference"]

[[issuer]]
iss = "https://fhir.oracle.example/r4/tenant"
client_id = "oracle-client"
auth_method = "client_secret_post"
client_secret_env = "SMARTAPP_ORACLE_SECRET"
vendor = "oracle"
scopes = "launch openid fhirUser patient/*.rs"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "issuers.toml"
    path.write_text(dedent(text))
    (tmp_path / "tls").mkdir(exist_ok=True)
    (tmp_path / "tls" / "ca.pem").write_text("a CA bundle\n")  # GOOD's tls_ca_file exists
    return path


def test_load_issuers_reads_a_good_file(tmp_path) -> None:
    registry = load_issuers(write(tmp_path, GOOD))
    assert len(registry) == 3
    sandbox = registry.get("https://127.0.0.1:9443/fhir")
    assert sandbox.name == "Sandbox"
    assert sandbox.iss == "https://127.0.0.1:9443/fhir"
    assert sandbox.auth_method is AuthMethod.NONE
    assert sandbox.scopes == DEFAULT_SCOPES
    assert sandbox.scope_version is ScopeVersion.V2
    assert sandbox.frame_ancestors == ("https://127.0.0.1:9443",)
    assert sandbox.writeback == ("Flag", "Task", "DocumentReference")
    assert sandbox.tls_ca_file == tmp_path / "tls" / "ca.pem"
    assert sandbox.signing_alg is None

    epic = registry.get("https://FHIR.epic.example/api/FHIR/R4/")
    assert epic.signing_alg is SigningAlg.ES384
    assert epic.vendor is Vendor.EPIC
    assert epic.page_size == 50
    assert "patient/Flag.write" in epic.scopes.split()  # v1 translation of the default scopes
    assert "patient/Observation.read" in epic.scopes.split()
    assert epic.name == epic.iss

    oracle = registry.get("https://fhir.oracle.example/r4/tenant")
    assert oracle.scopes == "launch openid fhirUser patient/*.rs"
    assert client_secret(oracle, {"SMARTAPP_ORACLE_SECRET": "xyz"}) == "xyz"
    assert client_secret(sandbox, {}) is None


def test_private_key_jwt_defaults_to_rs384() -> None:
    config = IssuerConfig(
        iss="https://ehr.example.org/fhir", client_id="c", auth_method=AuthMethod.PRIVATE_KEY_JWT
    )
    assert config.signing_alg is SigningAlg.RS384


@pytest.mark.parametrize(
    ("table", "named"),
    [
        ('iss = "https://e.example/fhir"\nclient_id = "c"\ncolour = "red"', "'colour'"),
        ('client_id = "c"', "'iss'"),
        ('iss = "https://e.example/fhir"', "'client_id'"),
        ('iss = "http://e.example/fhir"\nclient_id = "c"', "'iss'"),
        ('iss = "https://e.example/fhir?x=1"\nclient_id = "c"', "'iss'"),
        ('iss = "https://e.example/fhir"\nclient_id = ""', "'client_id'"),
        (
            'iss = "https://e.example/fhir"\nclient_id = "c"\nauth_method = "secret"',
            "'auth_method'",
        ),
        (
            'iss = "https://e.example/fhir"\nclient_id = "c"\nauth_method = "client_secret_basic"',
            "'client_secret_env'",
        ),
        (
            'iss = "https://e.example/fhir"\nclient_id = "c"\nclient_secret_env = "X"',
            "'client_secret_env'",
        ),
        ('iss = "https://e.example/fhir"\nclient_id = "c"\nsigning_alg = "RS384"', "'signing_alg'"),
        (
            'iss = "https://e.example/fhir"\nclient_id = "c"\nauth_method = "private_key_jwt"\n'
            'signing_alg = "HS256"',
            "'signing_alg'",
        ),
        (
            'iss = "https://e.example/fhir"\nclient_id = "c"\nscope_version = "v3"',
            "'scope_version'",
        ),
        ('iss = "https://e.example/fhir"\nclient_id = "c"\nvendor = "cerner"', "'vendor'"),
        ('iss = "https://e.example/fhir"\nclient_id = "c"\npage_size = 0', "'page_size'"),
        ('iss = "https://e.example/fhir"\nclient_id = "c"\npage_size = "10"', "'page_size'"),
        ('iss = "https://e.example/fhir"\nclient_id = "c"\npage_size = true', "'page_size'"),
        ('iss = "https://e.example/fhir"\nclient_id = "c"\nscopes = " "', "'scopes'"),
        ('iss = "https://e.example/fhir"\nclient_id = "c"\nwriteback = ["flag"]', "'writeback'"),
        ('iss = "https://e.example/fhir"\nclient_id = "c"\nwriteback = [1]', "'writeback'"),
        (
            'iss = "https://e.example/fhir"\nclient_id = "c"\nframe_ancestors = ["https://a/x"]',
            "'frame_ancestors'",
        ),
    ],
)
def test_load_issuers_bad_key_is_named(tmp_path, table, named) -> None:
    path = write(tmp_path, f"[[issuer]]\n{table}\n")
    with pytest.raises(ConfigurationError) as caught:
        load_issuers(path)
    assert named in caught.value.message
    assert str(path) in caught.value.message
    assert "[[issuer]] #1" in caught.value.message


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "no [[issuer]] tables"),
        ("[issuer]\niss = 'x'", "no [[issuer]] tables"),
        ("title = 'x'\n[[issuer]]\niss = 'https://e.example'\nclient_id = 'c'", "unknown key"),
        ("[[issuer]\n", "not valid TOML"),
    ],
)
def test_load_issuers_bad_file_is_refused(tmp_path, text, fragment) -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_issuers(write(tmp_path, text))
    assert fragment in caught.value.message


def test_load_issuers_missing_file_is_named(tmp_path) -> None:
    with pytest.raises(ConfigurationError, match=r"nowhere\.toml"):
        load_issuers(tmp_path / "nowhere.toml")


def test_load_issuers_refuses_the_same_issuer_twice(tmp_path) -> None:
    table = '[[issuer]]\niss = "https://e.example/fhir{}"\nclient_id = "c"\n'
    with pytest.raises(ConfigurationError, match="listed twice"):
        load_issuers(write(tmp_path, table.format("") + table.format("/")))


@pytest.mark.parametrize(
    ("iss", "error"),
    [
        ("https://other.example/fhir", "unknown_issuer"),
        ("https://127.0.0.1:9443/fhir/R4", "unknown_issuer"),
        ("https://127.0.0.1:9443", "unknown_issuer"),
        ("not a url", "invalid_issuer"),
        ("https://evil@127.0.0.1:9443/fhir", "invalid_issuer"),
    ],
)
def test_registry_get_refuses_what_is_not_listed(tmp_path, iss, error) -> None:
    registry = load_issuers(write(tmp_path, GOOD))
    with pytest.raises(LaunchError) as caught:
        registry.get(iss)
    assert caught.value.error == error
    assert caught.value.status == 400


def test_registry_check_secrets_names_the_missing_variable(tmp_path) -> None:
    registry = load_issuers(write(tmp_path, GOOD))
    with pytest.raises(ConfigurationError, match="SMARTAPP_ORACLE_SECRET"):
        registry.check_secrets({})
    registry.check_secrets({"SMARTAPP_ORACLE_SECRET": "x"})


def test_load_issuers_missing_tls_ca_file_is_named(tmp_path) -> None:
    path = write(tmp_path, GOOD.replace("tls/ca.pem", "tls/missing.pem"))
    with pytest.raises(ConfigurationError) as caught:
        load_issuers(path)
    assert "[[issuer]] #1: 'tls_ca_file' names" in caught.value.message
    assert str(tmp_path / "tls" / "missing.pem") in caught.value.message


@pytest.mark.parametrize(
    ("iss", "named"),
    [
        ("https://other.example/fhir/", "(https://other.example/fhir)"),
        ("not a\nurl", "(not a url)"),
    ],
)
def test_registry_get_names_the_refused_issuer(tmp_path, iss, named) -> None:
    registry = load_issuers(write(tmp_path, GOOD))
    with pytest.raises(LaunchError) as caught:
        registry.get(iss)
    assert named in caught.value.message


CDS_ISSUER = """
[[issuer]]
iss = "https://fhir.example.org/r4"
client_id = "app"
"""


def test_load_issuers_reads_a_cds_client_with_inline_jwks(tmp_path) -> None:
    text = CDS_ISSUER + (
        'cds_client_iss = "https://ehr.example.org/cds"\n'
        'cds_jwks = { keys = [{ kty = "EC", crv = "P-384", kid = "k1", x = "a", y = "b" }] }\n'
    )
    [issuer] = load_issuers(write(tmp_path, text))
    assert issuer.accepts_cds_client
    assert issuer.cds_client_iss == "https://ehr.example.org/cds"
    assert '"kid": "k1"' in (issuer.cds_jwks or "")
    assert issuer.cds_fhir_server == "https://fhir.example.org/r4"  # the iss by default


def test_load_issuers_reads_a_cds_client_with_a_jwks_url_and_its_fhir_server(tmp_path) -> None:
    text = CDS_ISSUER + (
        'cds_client_iss = "https://ehr.example.org/cds"\n'
        'cds_jwks_url = "https://ehr.example.org/cds/jwks.json"\n'
        'cds_fhir_server = "https://FHIR.example.org/r4/"\n'
    )
    [issuer] = load_issuers(write(tmp_path, text))
    assert issuer.cds_jwks_url == "https://ehr.example.org/cds/jwks.json"
    assert issuer.cds_fhir_server == "https://fhir.example.org/r4"


def test_an_issuer_without_a_cds_client_accepts_none(tmp_path) -> None:
    [issuer] = load_issuers(write(tmp_path, CDS_ISSUER))
    assert not issuer.accepts_cds_client and issuer.cds_fhir_server is None


@pytest.mark.parametrize(
    ("lines", "key"),
    [
        ('cds_jwks_url = "https://ehr.example.org/jwks"\n', "cds_jwks_url"),
        ('cds_client_iss = "https://ehr.example.org/cds"\n', "cds_client_iss"),
        (
            'cds_client_iss = "c"\ncds_jwks_url = "https://e/j"\ncds_jwks = { keys = [{ kty = "EC" }] }\n',
            "cds_client_iss",
        ),
        ('cds_client_iss = "c"\ncds_jwks_url = "http://ehr.example.org/jwks"\n', "cds_jwks_url"),
        ('cds_client_iss = "c"\ncds_jwks = { keys = [] }\n', "cds_jwks"),
        ('cds_client_iss = "c"\ncds_jwks = "not a table"\n', "cds_jwks"),
        (
            'cds_client_iss = "c"\ncds_jwks_url = "https://e/j"\ncds_fhir_server = "ftp://x"\n',
            "cds_fhir_server",
        ),
    ],
)
def test_load_issuers_names_a_bad_cds_client_key(tmp_path, lines, key) -> None:
    with pytest.raises(ConfigurationError, match=f"'{key}'"):
        load_issuers(write(tmp_path, CDS_ISSUER + lines))


def test_load_issuers_refuses_one_cds_client_for_two_issuers(tmp_path) -> None:
    client = 'cds_client_iss = "https://ehr.example.org/cds"\ncds_jwks_url = "https://e/j"\n'
    other = CDS_ISSUER.replace("r4", "other")
    with pytest.raises(ConfigurationError, match="listed twice"):
        load_issuers(write(tmp_path, CDS_ISSUER + client + other + client))


def test_registry_finds_an_issuer_by_its_cds_client(tmp_path) -> None:
    client = 'cds_client_iss = "https://ehr.example.org/cds"\ncds_jwks_url = "https://e/j"\n'
    registry = load_issuers(write(tmp_path, CDS_ISSUER + client + GOOD))
    found = registry.for_cds_client("https://ehr.example.org/cds")
    assert found is not None and found.cds_client_iss == "https://ehr.example.org/cds"
    assert registry.for_cds_client("https://ehr.example.org/other") is None
    assert registry.for_cds_client("") is None  # an issuer without a CDS client is never found
