"""Model files and champion/challenger promotion (jobs/common/registry.py)."""

from __future__ import annotations

import pandas as pd
import pytest

from jobs.common import registry
from jobs.common.protocol import NoInputError
from jobs.common.store import Store


class Const:
    """A stand-in model whose score is its constant error."""

    def __init__(self, err: float):
        self.err = err


def score(model, index):
    return model.err


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("HEA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HEA_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.delenv("HEA_STORE_URL", raising=False)
    monkeypatch.setenv("HEA_NOW", "2025-11-03T10:30:00Z")
    store = Store.open()
    yield store, tmp_path
    store.close()


HOLDOUT = pd.date_range("2025-10-20T00:00Z", periods=24 * 14, freq="h")


def publish(store, err, promoted, trained_until="2025-11-02T23:00:00Z"):
    return registry.publish(store, "m", Const(err), {"mae": err}, {"trained_until": trained_until}, promoted)


def test_first_model_is_promoted_and_saved_atomically(env):
    store, tmp = env
    decision = registry.challenge(store, "m", HOLDOUT, score, Const(2.0), "mae")
    assert decision["promoted"] and decision["reason"] == "no champion yet"
    saved = publish(store, 2.0, decision["promoted"])
    files = sorted(p.name for p in (tmp / "models" / "m").iterdir())
    assert files == [f"{saved['version']}.json", f"{saved['version']}.pkl"]  # no temp files left behind
    model, record = registry.load_champion(store, "m")
    assert model.err == 2.0 and record["version"] == saved["version"] == "20251103T103000Z"


def test_challenger_must_beat_the_champion_on_the_same_rows(env):
    store, _ = env
    publish(store, 2.0, True)
    worse = registry.challenge(store, "m", HOLDOUT, score, Const(3.0), "mae")
    assert not worse["promoted"]
    assert worse["challenger_score"] == 3.0 and worse["champion_score"] == 2.0
    assert "does not beat" in worse["reason"]
    # the champion saw the whole holdout: the result says so
    assert "trained on" in worse["reason"]
    tie = registry.challenge(store, "m", HOLDOUT, score, Const(2.0), "mae")
    assert not tie["promoted"]
    better = registry.challenge(store, "m", HOLDOUT, score, Const(1.0), "mae")
    assert better["promoted"] and "beats" in better["reason"]
    # higher-is-better metrics (precision) flip the comparison
    assert registry.challenge(store, "m", HOLDOUT, score, Const(3.0), "precision", higher_is_better=True)["promoted"]


def test_only_rows_the_champion_never_saw_are_compared(env):
    store, _ = env
    publish(store, 2.0, True, trained_until="2025-10-27T23:00:00Z")
    seen = []

    def spy(model, index):
        seen.append(index)
        return model.err

    registry.challenge(store, "m", HOLDOUT, spy, Const(1.0), "mae")
    assert all(idx.min() > pd.Timestamp("2025-10-27T23:00Z") for idx in seen)
    assert all(len(idx) == len(seen[0]) for idx in seen)  # same rows for both


def test_versions_are_unique_and_losers_do_not_replace_the_champion(env):
    store, _ = env
    first = publish(store, 2.0, True)
    second = publish(store, 3.0, False)
    assert second["version"] != first["version"]
    assert registry.champion(store, "m")["version"] == first["version"]
    assert [m["promoted"] for m in store.models("m")] == [True, False]


def test_missing_model_is_a_non_retryable_error(env):
    store, _ = env
    with pytest.raises(NoInputError) as err:
        registry.load_champion(store, "nothing", hint="train it first")
    assert err.value.exit_code == 66 and "train it first" in str(err.value)


def test_unloadable_champion_does_not_block_a_new_model(env):
    store, tmp = env
    saved = publish(store, 2.0, True)
    (tmp / "models" / "m" / f"{saved['version']}.pkl").write_bytes(b"not a pickle")
    decision = registry.challenge(store, "m", HOLDOUT, score, Const(5.0), "mae")
    assert decision["promoted"] and "could not be loaded" in decision["reason"]
