"""The pure parts of the bulk sync: option parsing, the circuit breaker's arithmetic, the normalization
cache and the progress file.  Runs against the real DC are in tests/integration/test_thumbnail_photo_sync.py."""

import io
import json
import os

import pytest
from PIL import Image

from ansible_collections.photosync.ad.plugins.module_utils import _cache, _errors, _image, _sync


def jpeg(colour=(10, 120, 200), size=(300, 200)):
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG", quality=90)
    return out.getvalue()


@pytest.mark.parametrize("text,parsed", [
    (None, None), ("", None), ("25", (25, False)), (" 0 ", (0, False)), ("10%", (10.0, True)),
    ("2.5%", (2.5, True)), ("100%", (100.0, True)),
])
def test_max_changes_parses_counts_and_percentages(text, parsed):
    assert _sync.parse_max_changes(text) == parsed


@pytest.mark.parametrize("text", ["many", "-1", "1.5", "101%", "10 %%", "%"])
def test_max_changes_refuses_anything_else(text):
    with pytest.raises(_errors.ConfigurationError, match="max_changes"):
        _sync.parse_max_changes(text)


@pytest.mark.parametrize("spec,total,limit", [
    (None, 100, None), ((25, False), 10, 25), ((10.0, True), 15, 1), ((10.0, True), 9, 0),
    ((50.0, True), 5, 2), ((100.0, True), 7, 7), ((33.3, True), 1000, 333),
])
def test_percentages_round_down(spec, total, limit):
    assert _sync.change_limit(spec, total) == limit


def test_options_are_refused_before_any_io():
    with pytest.raises(_errors.ConfigurationError, match="mutually exclusive"):
        _sync.Options({"identities": ["a"], "filter": "(cn=a)"})
    with pytest.raises(_errors.ConfigurationError, match="report_formats"):
        _sync.Options({"report_formats": ["pdf"]})
    with pytest.raises(_errors.ConfigurationError, match="missing_source"):
        _sync.Options({"missing_source": "delete"})
    options = _sync.Options({"max_changes": "5%", "max_listed": 3}, check_mode=True)
    assert options.policy.check_mode and options.policy.missing_source == "keep" and options.max_listed == 3


def test_normalization_cache_hits_and_ignores_damaged_entries(tmp_path):
    """The run's cache is _cache.NormalizeCache (tests/unit/plugins/module_utils/test_cache_parallel.py
    covers it in depth): hits, owner-only entries, damaged and foreign entries never used."""
    profile = _image.ImageProfile()
    cache = _cache.NormalizeCache(str(tmp_path / "cache"), profile)
    source = jpeg()
    first = cache.normalize(source)
    assert first == _image.normalize(source, profile) and (cache.hits, cache.misses) == (0, 1)
    assert cache.normalize(source) == first and cache.hits == 1
    entries = [os.path.join(d, f) for d, dummy, files in os.walk(str(tmp_path / "cache")) for f in files]
    assert len(entries) == 1 and oct(os.stat(entries[0]).st_mode & 0o777) == "0o600"
    # A damaged entry (flipped bytes) and a foreign one (not a cache entry at all) are never used.
    for damage in (lambda b: b[:-5] + b"XXXXX", lambda b: b"GIF89a" + b[6:]):
        with open(entries[0], "rb") as handle:
            blob = handle.read()
        with open(entries[0], "wb") as handle:
            handle.write(damage(blob))
        assert cache.get(cache.key(source)) is None
        assert cache.normalize(source) == first
    # Another profile is another key: no photo of one profile is served for another.
    other = _cache.NormalizeCache(str(tmp_path / "cache"), _image.ImageProfile(max_dimension=48))
    assert other.get(other.key(source)) is None


def test_progress_file_is_rewritten_whole(tmp_path):
    path = tmp_path / "deep" / "progress.json"
    progress = _sync.Progress(str(path), interval=3600)
    progress.update("planning", 0, None, force=True)
    progress.update("planning", 50)  # within the interval: not rewritten
    assert json.loads(path.read_text())["processed"] == 0
    progress.update("writing", 3, 10)  # a new phase is always written
    data = json.loads(path.read_text())
    assert data["phase"] == "writing" and data["processed"] == 3 and data["total"] == 10 and data["updated_at"]
    assert not [name for name in os.listdir(str(path.parent)) if name.startswith(".tmp-")]
