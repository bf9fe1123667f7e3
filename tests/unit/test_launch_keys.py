"""The app's key ring: made once, reloaded with the same kids, rotated with overlap, retired."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from launch import ConfigurationError, FileKeyStorage, KeyRing, MemoryKeyStorage
from launch.keys import SIGNING_ALGS
from tests.unit.test_launch_fake_ehr import NOW


def kids(ring: KeyRing) -> set[str]:
    return {key["kid"] for key in ring.public_jwks()["keys"]}


def test_key_ring_is_made_once_and_reloaded_with_the_same_kids(tmp_path) -> None:
    storage = FileKeyStorage(tmp_path / "keys" / "signing.json")
    first = KeyRing.load_or_create(storage, now=NOW)
    again = KeyRing.load_or_create(FileKeyStorage(storage.path), now=NOW + timedelta(days=1))
    assert kids(again) == kids(first)
    assert len(kids(first)) == 2
    assert {first.signing_key(alg).alg for alg in SIGNING_ALGS} == {"RS384", "ES384"}
    assert again.signing_key("ES384").created_at == NOW


def test_file_key_storage_is_private_to_its_owner(tmp_path) -> None:
    storage = FileKeyStorage(tmp_path / "signing.json")
    KeyRing.load_or_create(storage, now=NOW)
    assert stat.S_IMODE(storage.path.stat().st_mode) == 0o600
    assert not list(tmp_path.glob(".*.tmp"))


def test_key_records_are_private_jwks_with_timestamps() -> None:
    storage = MemoryKeyStorage()
    ring = KeyRing.load_or_create(storage, now=NOW)
    assert storage.records is not None
    for record in storage.records:
        assert record["kid"] in kids(ring) and record["alg"] in SIGNING_ALGS
        assert "d" in record  # private
        assert datetime.fromisoformat(record["created_at"]) == NOW
        assert record["retired_at"] is None


def test_key_records_may_carry_epoch_seconds() -> None:
    storage = MemoryKeyStorage()
    ring = KeyRing.load_or_create(storage, now=NOW)
    assert storage.records is not None
    storage.save([r | {"created_at": NOW.timestamp()} for r in storage.records])
    again = KeyRing.load_or_create(storage, now=NOW)
    assert again.signing_key("RS384").created_at == NOW
    assert kids(again) == kids(ring)


def test_public_jwks_has_no_private_parts_and_verifies_signatures() -> None:
    ring = KeyRing.load_or_create(MemoryKeyStorage(), now=NOW)
    jwks = ring.public_jwks()
    for key in jwks["keys"]:
        assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key)
        assert key["use"] == "sig" and key["alg"] in SIGNING_ALGS and key["kid"]
    public = KeySet.import_key_set(cast(Any, jwks))
    for alg in SIGNING_ALGS:
        signing = ring.signing_key(alg)
        header = {"alg": alg, "kid": signing.kid}
        token = jwt.encode(header, {"x": 1}, signing.key, algorithms=[alg])
        assert jwt.decode(token, public, algorithms=[alg]).claims == {"x": 1}


def test_signing_key_repr_hides_the_private_key() -> None:
    ring = KeyRing.load_or_create(MemoryKeyStorage(), now=NOW)
    text = repr(ring.signing_key("RS384"))
    assert "RS384" in text
    assert str(ring.signing_key("RS384").key.as_dict(private=True)["d"]) not in text


def test_rotate_keeps_the_old_key_published_until_retire_after() -> None:
    storage = MemoryKeyStorage()
    ring = KeyRing.load_or_create(storage, now=NOW, retire_after=timedelta(days=2))
    old = kids(ring)
    old_rs = ring.signing_key("RS384").kid
    ring.rotate(NOW + timedelta(days=30))
    assert old < kids(ring)  # old still published, beside the new
    assert len(kids(ring)) == 4
    assert ring.signing_key("RS384").kid != old_rs  # new assertions use the new key
    # Another instance sharing the storage sees the rotation.
    assert kids(KeyRing.load_or_create(storage, now=NOW)) == kids(ring)

    ring.prune(NOW + timedelta(days=31))
    assert old < kids(ring)
    ring.prune(NOW + timedelta(days=32))
    assert not old & kids(ring)
    assert len(kids(ring)) == 2
    assert kids(KeyRing.load_or_create(storage, now=NOW)) == kids(ring)


def test_rotate_drops_keys_retired_long_ago() -> None:
    ring = KeyRing.load_or_create(MemoryKeyStorage(), now=NOW, retire_after=timedelta(days=1))
    first = kids(ring)
    ring.rotate(NOW + timedelta(days=10))
    ring.rotate(NOW + timedelta(days=20))  # the first keys retired 10 days ago: gone
    assert not first & kids(ring)
    assert len(kids(ring)) == 4


def test_reload_picks_up_a_rotation_by_another_instance() -> None:
    storage = MemoryKeyStorage()
    mine = KeyRing.load_or_create(storage, now=NOW)
    theirs = KeyRing.load_or_create(storage, now=NOW)
    theirs.rotate(NOW + timedelta(days=1))
    mine.reload()
    assert kids(mine) == kids(theirs)


def test_missing_algorithm_is_added_without_replacing_the_other() -> None:
    storage = MemoryKeyStorage()
    ring = KeyRing.load_or_create(storage, now=NOW)
    storage.save([ring.signing_key("RS384").to_record()])
    again = KeyRing.load_or_create(storage, now=NOW)
    assert again.signing_key("RS384").kid == ring.signing_key("RS384").kid
    assert again.signing_key("ES384").kid != ring.signing_key("ES384").kid


PUBLIC_ONLY = {
    "kty": "EC",
    "crv": "P-384",
    "alg": "ES384",
    "kid": "k",
    "x": "wcE8O55ro6aOuTf5Ty1k_IG4mTcuLiVercHouge1G5Ri-leevhev4uJzlHpi3U8r",
    "y": "mLRgz8Giu6XA_AqG8bywqbygShmd8jowflrdx0KQtM5X4s4aqDeCRfcpexykp3aI",
    "created_at": "2025-01-01T00:00:00+00:00",
}


@pytest.mark.parametrize(
    "content",
    [
        json.dumps([PUBLIC_ONLY]),
        "not json",
        json.dumps({"keys": []}),
        json.dumps([{"kty": "oct", "k": "AAAA", "alg": "HS256", "created_at": "2025-01-01"}]),
    ],
)
def test_corrupt_key_storage_stops_start_up(tmp_path, content) -> None:
    path = tmp_path / "signing.json"
    path.write_text(content)
    with pytest.raises(ConfigurationError) as caught:
        KeyRing.load_or_create(FileKeyStorage(path), now=NOW)
    assert caught.value.error == "key_storage"


def test_stored_naive_timestamp_stops_start_up() -> None:
    storage = MemoryKeyStorage()
    KeyRing.load_or_create(storage, now=NOW)
    assert storage.records is not None
    storage.save([r | {"created_at": "2025-01-01T00:00:00"} for r in storage.records])
    with pytest.raises(ConfigurationError):
        KeyRing.load_or_create(storage, now=NOW)


def test_key_ring_refuses_naive_times() -> None:
    ring = KeyRing.load_or_create(MemoryKeyStorage(), now=datetime(2025, 1, 1, tzinfo=UTC))
    with pytest.raises(ValueError, match="aware"):
        ring.rotate(datetime(2025, 2, 1))


def test_published_jwks_reads_storage_again_only_once_it_is_stale() -> None:
    now = NOW
    storage = MemoryKeyStorage()
    ticks = [0.0]
    ring = KeyRing.load_or_create(storage, now=now)
    ring = KeyRing(storage, ring.keys, clock=lambda: ticks[0])
    other = KeyRing.load_or_create(storage, now=now)  # another instance
    other.rotate(now)
    before = {key["kid"] for key in ring.published_jwks(max_age_s=30)["keys"]}
    ticks[0] = 29.0
    assert {key["kid"] for key in ring.published_jwks(max_age_s=30)["keys"]} == before
    ticks[0] = 30.0
    after = {key["kid"] for key in ring.published_jwks(max_age_s=30)["keys"]}
    assert after > before  # the rotation's new keys, and the retired ones still published
