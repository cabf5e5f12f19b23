"""Unit tests for deidc.runtime.interpret.pseudonyms (keyed pseudonyms)."""

import re

import pytest

from deidc.runtime.interpret.pseudonyms import (
    keyed_digest,
    keyed_hash,
    pseudonym,
    remap_uid,
    shift_offset,
    validate_template,
)

KEY = b"test-secret-key"
OTHER = b"another-secret-key"
UID = "1.2.840.113619.2.55.3.604688119.969.1268071029.320"
UID_RE = re.compile(r"(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*")


def test_digest_is_hmac_sha256_with_domain_separation():
    import hashlib
    import hmac

    expected = hmac.new(KEY, b"uid\x00ABC", hashlib.sha256).digest()
    assert keyed_digest(KEY, "ABC", "uid") == expected
    assert keyed_digest(KEY, "ABC", "uid") != keyed_digest(KEY, "ABC", "hash")


def test_digest_strips_dicom_padding():
    assert keyed_digest(KEY, "ABC \x00", "hash") == keyed_digest(KEY, "ABC", "hash")


def test_digest_requires_a_key():
    with pytest.raises(ValueError):
        keyed_digest(b"", "ABC", "hash")


def test_remap_uid_deterministic_and_valid():
    a = remap_uid(KEY, UID)
    assert a == remap_uid(KEY, UID)
    assert a == remap_uid(KEY, UID + "\x00")
    assert a.startswith("2.25.")
    assert len(a) <= 64
    assert UID_RE.fullmatch(a)
    assert int(a[5:]) < 2**128


def test_remap_uid_differs_by_key_and_value():
    a = remap_uid(KEY, UID)
    assert a != remap_uid(OTHER, UID)
    assert a != remap_uid(KEY, UID + ".1")
    assert a != UID


def test_remap_uid_blank_stays_blank():
    assert remap_uid(KEY, "") == ""
    assert remap_uid(KEY, "  ") == ""


@pytest.mark.parametrize("root", ["1.2.3", "1.2.826.0.1.3680043.10.999", "9" * 40])
def test_remap_uid_custom_root(root):
    uids = {remap_uid(KEY, f"1.2.3.{i}", root) for i in range(200)}
    assert len(uids) == 200
    for u in uids:
        assert u.startswith(root + ".")
        assert len(u) == 64  # the digest's decimal form always fills the room
        assert UID_RE.fullmatch(u)


@pytest.mark.parametrize("root", ["", "1.02", "1..2", "1.2.", "a.b", "9" * 60])
def test_remap_uid_bad_root(root):
    with pytest.raises(ValueError):
        remap_uid(KEY, UID, root)


def test_keyed_hash():
    h = keyed_hash(KEY, "PAT001", 16)
    assert re.fullmatch(r"[0-9A-F]{16}", h)
    assert h == keyed_hash(KEY, "PAT001 ", 16)
    assert keyed_hash(KEY, "PAT001", 64).startswith(h)
    assert h != keyed_hash(OTHER, "PAT001", 16)
    # the purpose separates hashes from other pseudonyms of the same text
    assert h != keyed_digest(KEY, "PAT001", "uid").hex().upper()[:16]
    for bad in (0, 65):
        with pytest.raises(ValueError):
            keyed_hash(KEY, "PAT001", bad)


def test_pseudonym_rendering():
    digest = keyed_digest(KEY, "Doe^John", "pseudonym")
    hexd = digest.hex().upper()
    digits = str(int.from_bytes(digest, "big") % 10**6).zfill(6)
    assert pseudonym(KEY, "Doe^John", "ANON-{hex:8}") == "ANON-" + hexd[:8]
    assert pseudonym(KEY, "Doe^John", "P{hmac:6}") == "P" + digits
    assert pseudonym(KEY, "Doe^John", "{hmac:6}^{hex:4}") == f"{digits}^{hexd[:4]}"
    assert pseudonym(KEY, "Doe^John", "CONSTANT") == "CONSTANT"
    out = pseudonym(KEY, "Doe^John", "{hmac:10}")
    assert re.fullmatch(r"[0-9]{10}", out)
    assert out == pseudonym(KEY, "Doe^John  ", "{hmac:10}")
    assert out != pseudonym(OTHER, "Doe^John", "{hmac:10}")
    assert out != pseudonym(KEY, "Roe^Jane", "{hmac:10}")


@pytest.mark.parametrize(
    "template", ["{foo:3}", "{hex}", "{hex:0}", "{hmac:65}", "{HEX:4}", "a{b", "a}b", "{hex:x}"]
)
def test_bad_templates(template):
    msg = validate_template(template)
    assert msg and template in msg
    with pytest.raises(ValueError, match="template"):
        pseudonym(KEY, "X", template)


def test_validate_template_ok():
    assert validate_template("ANON-{hex:8}-{hmac:4}") is None
    assert validate_template("") is None


def test_shift_offset_range_and_spread():
    values = [shift_offset(KEY, f"PAT{i:04d}", -365, 365) for i in range(1000)]
    assert all(-365 <= v <= 365 for v in values)
    assert len(set(values)) > 450  # ~543 expected for 1000 draws from 731
    # roughly balanced across the range: each quarter gets a fair share
    quarters = [sum(1 for v in values if lo <= v < lo + 183) for lo in (-365, -182, 1, 184)]
    assert all(quarters[i] > 180 for i in range(4)), quarters
    assert shift_offset(KEY, "PAT0001", -365, 365) == values[1]
    assert shift_offset(KEY, "PAT0001", 5, 5) == 5


def test_shift_offset_empty_range():
    with pytest.raises(ValueError):
        shift_offset(KEY, "X", 1, 0)


def test_template_space_counts_the_longest_placeholder_of_each_kind():
    from deidc.compiler.templates import template_space
    assert template_space("P{hmac:8}") == 10**8
    assert template_space("{hmac:3}-{hmac:5}") == 10**5  # the same digits repeated
    assert template_space("{hex:2}{hmac:2}") == 256 * 100
    assert template_space("ANON") == 1
    assert template_space("{hex:64}{hmac:64}") == 2**256
