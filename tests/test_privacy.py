"""Keyed-hash pseudonymization of customer IDs."""

from __future__ import annotations

import hashlib
import hmac
import stat

import numpy as np
import pandas as pd

from helpers import privacy


KEY = bytes(range(32))


def test_matches_hmac_sha256_by_hand():
    out = privacy.pseudonymize(pd.Series(["10001", "10002", "10001"]), KEY)
    expected = "PS-" + hmac.new(KEY, b"10001", hashlib.sha256).hexdigest().upper()[:8]
    assert out.iloc[0] == expected and out.iloc[2] == expected
    assert out.iloc[1] != expected
    assert out.str.fullmatch(r"PS-[0-9A-F]{8}").all()


def test_key_changes_pseudonyms_and_missing_stays_missing():
    ids = pd.Series(["a", None, "b"], index=[5, 6, 7])
    a = privacy.pseudonymize(ids, KEY)
    b = privacy.pseudonymize(ids, b"other key")
    assert list(a.index) == [5, 6, 7]
    assert pd.isna(a.loc[6]) and pd.isna(b.loc[6])
    assert a.loc[5] != b.loc[5]


def test_collisions_lengthen_all_pseudonyms():
    base = np.zeros((3, 32), dtype=np.uint8)
    base[:, 10] = [1, 2, 3]  # distinct rows, identical first 8 bytes
    assert privacy._short_length(base) == 32
    base[:, 5] = [1, 2, 3]  # first difference in byte 6 -> 6 bytes = 12 hex digits
    assert privacy._short_length(base) == 6
    base[:, 2] = [1, 2, 3]
    assert privacy._short_length(base) == 4


def test_many_ids_stay_distinct():
    ids = pd.Series(np.arange(30_000).astype(str))
    out = privacy.pseudonymize(ids, KEY)
    assert out.nunique() == len(ids)
    assert out.iloc[123] == "PS-" + hmac.new(KEY, b"123", hashlib.sha256).hexdigest().upper()[: len(out.iloc[0]) - 3]


def test_key_file_created_once_private(tmp_path):
    path = privacy.key_path(tmp_path, "beispiel-gmbh")
    assert path == tmp_path / "beispiel-gmbh" / "pseudonym.key"
    k1 = privacy.load_or_create_key(path)
    assert len(k1) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert privacy.load_or_create_key(path) == k1
    ids = pd.Series(["x", "y"])
    assert privacy.pseudonymize(ids, path).equals(privacy.pseudonymize(ids, k1))
