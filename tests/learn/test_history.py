"""The per-epoch training records (freeenergy.learn.history): TrainingHistory and VariationalHistory.

Both are frozen dataclasses of one read-only column per monitored quantity (int64 epochs, float64
values, NaN where not computed). The column names and their order are written out here from the
classes' docstrings, so that a renamed, dropped or reordered column shows up as a failure.
"""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest

import freeenergy as fe
from freeenergy.learn import TrainingHistory, VariationalHistory

TRAINING_COLUMNS = [
    "epoch", "train_free_energy", "test_free_energy", "reconstruction_error", "weight_norm",
    "weight_max", "beta_eff", "log_z", "train_log_likelihood", "test_log_likelihood", "seconds",
    "monitor_seconds",
]
VARIATIONAL_COLUMNS = [
    "epoch", "objective", "train_free_energy", "train_energy", "train_entropy",
    "train_neg_log_likelihood", "train_gap", "train_iw_bound", "test_free_energy", "test_energy",
    "test_entropy", "test_neg_log_likelihood", "test_gap", "test_iw_bound", "seconds",
    "monitor_seconds",
]
BOTH = [(TrainingHistory, TRAINING_COLUMNS), (VariationalHistory, VARIATIONAL_COLUMNS)]


def columns_of(n, names):
    """Column ``k`` holds ``k + i / 10`` in row ``i`` (epochs ``0..n-1``)."""
    return {name: (np.arange(n) if name == "epoch" else k + np.arange(n) / 10)
            for k, name in enumerate(names)}


@pytest.mark.parametrize(("cls", "names"), BOTH)
def test_columns_are_the_documented_ones(cls, names):
    """The dataclass fields are the documented columns, then arguments and stop_reason."""
    assert [f.name for f in dataclasses.fields(cls)] == [*names, "arguments", "stop_reason"]


def test_from_rows_fills_missing_entries_with_nan():
    """Entries absent from a row, or given as None, become NaN; the rest keep their values."""
    h = TrainingHistory.from_rows([
        {"epoch": 0, "beta_eff": 0.3, "seconds": 0.0},
        {"epoch": 1, "beta_eff": 0.5, "log_z": -2.25, "weight_norm": None, "seconds": 1.5},
    ])
    assert len(h) == 2
    assert h.epoch.tolist() == [0, 1]
    assert h.beta_eff.tolist() == [0.3, 0.5]
    assert h.seconds.tolist() == [0.0, 1.5]
    assert h.log_z[1] == -2.25 and math.isnan(h.log_z[0])
    for name in set(TRAINING_COLUMNS) - {"epoch", "beta_eff", "seconds", "log_z"}:
        assert np.isnan(getattr(h, name)).all(), name
    assert h.arguments == {} and h.stop_reason == "completed"


def test_from_rows_variational():
    """VariationalHistory.from_rows fills its own columns, keeping arguments and stop_reason."""
    h = VariationalHistory.from_rows(
        [{"epoch": 0, "train_free_energy": 5.0}, {"epoch": 3, "objective": 4.5, "train_gap": 0.25}],
        arguments={"lr": 0.01}, stop_reason="callback")
    assert h.epoch.tolist() == [0, 3]
    np.testing.assert_array_equal(h.train_free_energy, [5.0, np.nan])
    np.testing.assert_array_equal(h.objective, [np.nan, 4.5])
    np.testing.assert_array_equal(h.train_gap, [np.nan, 0.25])
    assert np.isnan(h.test_iw_bound).all()
    assert h.arguments == {"lr": 0.01} and h.stop_reason == "callback"


@pytest.mark.parametrize(("cls", "names"), BOTH)
def test_columns_are_read_only_float64_and_int64(cls, names):
    """epoch is int64, every other column float64, all one-dimensional and read-only."""
    h = cls(**columns_of(3, names))
    for name in names:
        arr = getattr(h, name)
        assert arr.dtype == (np.int64 if name == "epoch" else np.float64), name
        assert arr.shape == (3,)
        assert not arr.flags.writeable
        with pytest.raises(ValueError, match="read-only"):
            arr[0] = 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        h.epoch = np.arange(3)


def test_columns_are_copies_of_the_input():
    """Changing the arrays or the arguments dict given to the constructor changes nothing."""
    cols = columns_of(2, TRAINING_COLUMNS)
    cols["beta_eff"] = np.array([1.0, 2.0])
    arguments = {"lr": 0.1}
    h = TrainingHistory(**cols, arguments=arguments)
    cols["beta_eff"][0] = 99.0
    arguments["lr"] = 5.0
    assert h.beta_eff.tolist() == [1.0, 2.0]
    assert h.arguments == {"lr": 0.1}


def test_lists_and_scalars_are_converted():
    """Lists become arrays, and a scalar column a one-row array (epoch 2.0 becomes int 2)."""
    cols = {name: 1.5 for name in TRAINING_COLUMNS}
    cols["epoch"] = [2.0]
    h = TrainingHistory(**cols)
    assert h.epoch.tolist() == [2] and h.epoch.dtype == np.int64
    assert h.weight_max.tolist() == [1.5] and h.weight_max.dtype == np.float64


@pytest.mark.parametrize(("cls", "names"), BOTH)
@pytest.mark.parametrize("short", ["epoch", "seconds", "test_free_energy"])
def test_unequal_lengths_raise_input_error_naming_the_class(cls, names, short):
    """One column shorter than the others raises freeenergy.InputError naming the class."""
    cols = columns_of(3, names)
    cols[short] = cols[short][:2]
    with pytest.raises(fe.InputError, match=rf"All columns of a {cls.__name__} must have the same length"):
        cls(**cols)


def test_rows_round_trip():
    """rows() gives one plain dict per epoch, columns in order, and from_rows(rows()) rebuilds it."""
    cols = columns_of(3, TRAINING_COLUMNS)
    cols["log_z"] = np.array([np.nan, np.inf, -np.inf])
    h = TrainingHistory(**cols, arguments={"k": 1}, stop_reason="diverged")
    rows = h.rows()
    assert len(rows) == 3
    assert [list(r) for r in rows] == [TRAINING_COLUMNS] * 3
    assert rows[2]["epoch"] == 2 and type(rows[2]["epoch"]) is int
    assert rows[1]["weight_norm"] == 4.1 and type(rows[1]["weight_norm"]) is float
    assert math.isnan(rows[0]["log_z"]) and rows[1]["log_z"] == math.inf and rows[2]["log_z"] == -math.inf
    again = TrainingHistory.from_rows(rows, arguments={"k": 1}, stop_reason="diverged")
    for name in TRAINING_COLUMNS:
        np.testing.assert_array_equal(getattr(again, name), getattr(h, name))
    assert (again.arguments, again.stop_reason) == ({"k": 1}, "diverged")


def test_empty_history():
    """No rows: zero-length columns of the right dtype, an empty rows() and a repr without epochs."""
    h = VariationalHistory.from_rows([])
    assert len(h) == 0 and h.rows() == []
    assert h.epoch.dtype == np.int64 and h.objective.dtype == np.float64
    assert repr(h) == "VariationalHistory(epochs=None, rows=0, stop_reason='completed')"


def test_as_dict_is_json_ready():
    """as_dict(): plain lists, non-finite values as "nan"/"inf"/"-inf", arguments and stop_reason."""
    h = TrainingHistory.from_rows(
        [{"epoch": 0, "log_z": math.inf, "beta_eff": 0.5}, {"epoch": 1, "log_z": -math.inf, "beta_eff": 2.0}],
        arguments={"lr": np.float64(0.5), "decay": math.nan, "sizes": (3, 4)}, stop_reason="completed")
    d = h.as_dict()
    assert list(d) == [*TRAINING_COLUMNS, "arguments", "stop_reason"]
    assert d["epoch"] == [0, 1] and all(type(e) is int for e in d["epoch"])
    assert d["beta_eff"] == [0.5, 2.0]
    assert d["log_z"] == ["inf", "-inf"]
    assert d["weight_norm"] == ["nan", "nan"]
    assert d["arguments"] == {"lr": 0.5, "decay": "nan", "sizes": [3, 4]}
    assert type(d["arguments"]["lr"]) is float
    assert d["stop_reason"] == "completed"
    assert json.loads(json.dumps(d, allow_nan=False)) == d


@pytest.mark.parametrize(("cls", "names"), BOTH)
def test_repr_names_the_last_epoch(cls, names):
    """repr shows the class, the last epoch number, the row count and the stop reason."""
    cols = columns_of(2, names)
    cols["epoch"] = np.array([0, 7])
    expected = f"{cls.__name__}(epochs=7, rows=2, stop_reason='diverged')"
    assert repr(cls(**cols, stop_reason="diverged")) == expected


def test_from_rows_without_epoch_raises_input_error():
    """A row without an epoch number is bad input: freeenergy.InputError naming TrainingHistory."""
    with pytest.raises(fe.InputError, match="TrainingHistory"):
        TrainingHistory.from_rows([{"beta_eff": 1.0}])
