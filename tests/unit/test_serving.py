"""The serving helper: a batch of predictions or labels into the lake, checked, split by day, once."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest

from driftpilot.adapters.lake_files import LakeFiles
from driftpilot.adapters.parquet_lake import ParquetLake
from driftpilot.domain.contracts import check_inference_log
from driftpilot.domain.contracts import check_labels as contract_labels
from driftpilot.domain.lake_layout import INFERENCE, LABELS
from driftpilot.errors import SchemaViolation
from driftpilot.serving import log_labels, log_predictions

MODEL = "elec2_updown"
SYDNEY = dt.timezone(dt.timedelta(hours=11))


def _predictions(n: int = 6, start: str = "2026-01-10 21:00", tz: str = "Australia/Sydney") -> pd.DataFrame:
    """Elec2-shaped predictions every hour from ``start`` local time (Sydney is UTC+11 in January)."""
    times = pd.date_range(start, periods=n, freq="h", tz=tz)
    return pd.DataFrame({
        "prediction_id": [f"p-{i}" for i in range(n)],
        "event_time": times,
        "model_version": 1,
        "period": [i / n for i in range(n)],
        "nswprice": 0.05,
        "nswdemand": 0.4,
        "vicprice": 0.003,
        "vicdemand": 0.42,
        "transfer": 0.41,
        "day_of_week": pd.Categorical(["3"] * n),
        "prediction": [i % 2 for i in range(n)],
        "score": [0.25 + 0.1 * (i % 2) for i in range(n)],
    })


def _files(lake: Path) -> list[Path]:
    return sorted(p for p in lake.rglob("*") if p.is_file())


def test_a_batch_spanning_midnight_utc_goes_to_two_partitions_readable_by_monitoring(tmp_path, elec2_config) -> None:
    frame = _predictions(n=6, start="2026-01-11 09:00", tz="Australia/Sydney")  # 22:00 .. 03:00 UTC
    logged = log_predictions(tmp_path, MODEL, frame, config=elec2_config)
    assert [(f.day.isoformat(), f.rows) for f in logged.files] == [("2026-01-10", 2), ("2026-01-11", 4)]
    lake = ParquetLake(tmp_path)
    assert lake.dates(INFERENCE, MODEL) == [dt.date(2026, 1, 10), dt.date(2026, 1, 11)]
    back = pd.concat([lake.read(key) for day in lake.dates(INFERENCE, MODEL)
                      for key in lake.files(INFERENCE, MODEL, day)], ignore_index=True)
    check_inference_log(back, elec2_config, "logged")
    assert str(back["event_time"].dt.tz) == "UTC"
    assert sorted(back["prediction_id"]) == sorted(frame["prediction_id"])
    assert set(back["model_name"]) == {MODEL} and set(back["model_version"]) == {"1"}
    assert back["period"].dtype == "float64"
    first_day = back[back["event_time"] < pd.Timestamp("2026-01-11", tz="UTC")]
    assert sorted(first_day["prediction_id"]) == ["p-0", "p-1"]


def test_sending_the_same_batch_again_writes_nothing_whatever_the_row_and_column_order(tmp_path, elec2_config) -> None:
    frame = _predictions(n=8, start="2026-01-11 09:00")
    first = log_predictions(tmp_path, MODEL, frame, config=elec2_config)
    before = {p: p.read_bytes() for p in _files(tmp_path)}
    shuffled = frame.iloc[::-1].reset_index(drop=True)[list(reversed(frame.columns))]  # rows and columns
    again = log_predictions(tmp_path, MODEL, shuffled, config=elec2_config)
    assert [f.key for f in again.files] == [f.key for f in first.files]
    assert not any(f.written for f in again.files) and again.rows_written == 0
    assert {p: p.read_bytes() for p in _files(tmp_path)} == before
    other = log_predictions(tmp_path, MODEL, _predictions(n=2, start="2026-01-12 12:00").assign(
        prediction_id=["q-0", "q-1"]), config=elec2_config)
    assert other.rows_written == 2 and len(_files(tmp_path)) == len(before) + 1


def test_a_pyarrow_table_and_a_list_of_dicts_are_accepted(tmp_path) -> None:
    when = dt.datetime(2026, 1, 10, 12, tzinfo=dt.UTC)
    rows = [{"prediction_id": 7, "event_time": when, "model_version": "2", "prediction": "yes", "x": 1.5,
             "score_band": "high"}]  # a column of the user's own, not a class score: kept as it is
    from_list = log_predictions(tmp_path / "a", "m", rows, features=["x"])
    table = pa.table({"prediction_id": ["7"], "event_time": pa.array([when], pa.timestamp("ms", "UTC")),
                      "model_version": ["2"], "prediction": ["yes"], "x": [1.5], "score_band": ["high"]})
    from_table = log_predictions(tmp_path / "b", "m", table, features=["x"])
    assert from_list.rows == from_table.rows == 1
    read = pq.read_table(from_list.files[0].path)
    assert read["prediction_id"].to_pylist() == ["7"] and read["model_name"].to_pylist() == ["m"]
    assert read["score_band"].to_pylist() == ["high"]


BAD_PREDICTIONS = [
    ("missing feature", lambda f: f.drop(columns=["nswprice"]), r"missing required column\(s\) \['nswprice'\]"),
    ("missing score", lambda f: f.drop(columns=["score"]), r"missing required column\(s\) \['score'\]"),
    ("naive times", lambda f: f.assign(event_time=f["event_time"].dt.tz_localize(None)),
     r"'event_time' has timestamps without a time zone.*tz_localize"),
    ("text times", lambda f: f.assign(event_time=f["event_time"].astype(str)), r"'event_time' must be a timestamp"),
    ("missing id", lambda f: f.assign(prediction_id=[None, *f["prediction_id"][1:]]),
     r"'prediction_id' has 1 missing value"),
    ("blank id", lambda f: f.assign(prediction_id=[" ", *f["prediction_id"][1:]]), r"'prediction_id' has 1 blank"),
    ("float ids", lambda f: f.assign(prediction_id=[float(i) for i in range(len(f))]),
     r"'prediction_id' must hold strings or integers, got double.*missing value turns float"),
    ("repeated id", lambda f: f.assign(prediction_id=["a", "a", "b", "c", "d", "e"]),
     r"1 prediction_id value\(s\) appear more than once \(e.g. a\)"),
    ("other model", lambda f: f.assign(model_name="churn"), r"'model_name' must be 'elec2_updown'.*'churn'"),
    ("text feature", lambda f: f.assign(nswdemand="high"), r"'nswdemand' must be numeric, got string"),
    ("no prediction", lambda f: f.assign(prediction=[None, 1, 0, 1, 0, 1]), r"'prediction' has 1 missing value"),
    ("huge ints", lambda f: f.assign(period=2**53 + 1), r"'period' cannot be stored as float64 without loss"),
    ("no version", lambda f: f.drop(columns=["model_version"]), r"missing required column\(s\) \['model_version'\]"),
    ("mixed ids", lambda f: f.assign(prediction_id=[1, "b", "c", "d", "e", "f"]),
     r"cannot be read as one type per column.*prediction_id"),
    ("text score", lambda f: f.assign(score="high"), r"'score' must be numeric, got string"),
]


@pytest.mark.parametrize(("case", "change", "message"), BAD_PREDICTIONS, ids=[c[0] for c in BAD_PREDICTIONS])
def test_a_bad_prediction_batch_names_the_column_and_writes_nothing(tmp_path, elec2_config, case, change,
                                                                     message) -> None:
    frame = change(_predictions(n=6))
    with pytest.raises(SchemaViolation, match=message):
        log_predictions(tmp_path, MODEL, frame, config=elec2_config)
    assert _files(tmp_path) == []


def test_features_named_without_a_config_are_required(tmp_path) -> None:
    frame = _predictions()[["prediction_id", "event_time", "model_version", "prediction"]]
    with pytest.raises(SchemaViolation, match=r"\['age'\]"):
        log_predictions(tmp_path, "m", frame, features=["age"])
    assert log_predictions(tmp_path, "m", frame).rows == 6  # no config, no features: the base contract only


def test_a_config_of_another_model_is_refused(tmp_path, elec2_config) -> None:
    with pytest.raises(SchemaViolation, match="config given is for model 'elec2_updown'"):
        log_predictions(tmp_path, "churn", _predictions(), config=elec2_config)


def test_an_index_holding_the_ids_gets_a_hint(tmp_path) -> None:
    frame = _predictions().set_index("prediction_id")
    with pytest.raises(SchemaViolation, match=r"reset_index\(\)"):
        log_predictions(tmp_path, "m", frame)


def _labels(n: int = 4) -> pd.DataFrame:
    return pd.DataFrame({
        "prediction_id": [f"p-{i}" for i in range(n)],
        "label": [i % 2 for i in range(n)],
        "label_time": pd.date_range("2026-01-13 22:30", periods=n, freq="30min", tz="UTC"),
    })


def test_labels_go_to_their_arrival_day_and_follow_the_label_contract(tmp_path) -> None:
    logged = log_labels(tmp_path, MODEL, _labels(4), source="outcome")
    assert [(f.day.isoformat(), f.rows) for f in logged.files] == [("2026-01-13", 3), ("2026-01-14", 1)]
    lake = ParquetLake(tmp_path)
    for day in lake.dates(LABELS, MODEL):
        for key in lake.files(LABELS, MODEL, day):
            part = lake.read(key)
            contract_labels(part, key)
            assert set(part["source"]) == {"outcome"}
            assert (part["label_time"].dt.date == day).all()
    assert log_labels(tmp_path, MODEL, _labels(4), source="outcome").rows_written == 0


BAD_LABELS = [
    ("no source", lambda f: f, None, r"\['source'\].*Pass source='outcome'"),
    ("naive time", lambda f: f.assign(label_time=f["label_time"].dt.tz_localize(None)), "outcome",
     r"'label_time' has timestamps without a time zone"),
    ("unknown label", lambda f: f.assign(label=[None, 1, 0, 1]), "outcome", r"'label' has 1 missing value.*never fills in"),
    ("twice", lambda f: pd.concat([f, f.head(1)]), "outcome", r"prediction_id/label_time/source value\(s\) appear more"),
]


@pytest.mark.parametrize(("case", "change", "source", "message"), BAD_LABELS, ids=[c[0] for c in BAD_LABELS])
def test_a_bad_label_batch_names_the_column_and_writes_nothing(tmp_path, case, change, source, message) -> None:
    with pytest.raises(SchemaViolation, match=message):
        log_labels(tmp_path, MODEL, change(_labels()), source=source)
    assert _files(tmp_path) == []


def test_a_correction_of_the_same_prediction_is_a_new_label_row(tmp_path) -> None:
    first = _labels(2).assign(source="outcome")
    correction = first.head(1).assign(label=1 - first["label"].head(1), source="correction")
    log_labels(tmp_path, MODEL, first)
    assert log_labels(tmp_path, MODEL, correction).rows_written == 1


def test_a_failed_publish_leaves_no_file_and_no_temporary(tmp_path) -> None:
    files = LakeFiles(tmp_path)
    table = pa.table({"a": [1, 2]})
    published = files.publish("inference/model=m/date=2026-01-01", table)
    Path(published.location).unlink()
    Path(published.location).mkdir()  # the target name is taken by a folder: the rename must fail
    (Path(published.location) / "inside").write_text("x")
    with pytest.raises(OSError):
        files.publish("inference/model=m/date=2026-01-01", table)
    assert [p.name for p in Path(published.location).parent.iterdir()] == [Path(published.location).name]


def test_the_writer_takes_another_pyarrow_filesystem(tmp_path) -> None:
    """The seam an object-store lake plugs into: a filesystem and a root (here a sub-tree)."""
    subtree = pafs.SubTreeFileSystem(str(tmp_path), pafs.LocalFileSystem())
    published = LakeFiles("lake", filesystem=subtree).publish("labels/model=m/date=2026-01-01", pa.table({"a": [1]}))
    assert published.written
    assert (tmp_path / "lake" / published.key).is_file()


def test_the_readme_example_runs_as_written(tmp_path, monkeypatch) -> None:
    """The README's "Log predictions and labels" example, run with its lake moved to tmp_path."""
    root = Path(__file__).resolve().parents[2]
    text = (root / "README.md").read_text()
    code = text.split("### Log predictions and labels", 1)[1].split("```python", 1)[1].split("```", 1)[0]
    assert '"/data/driftpilot/lake"' in code
    monkeypatch.chdir(root)  # the example names the config by its path in the project
    exec(compile(code.replace('"/data/driftpilot/lake"', repr(str(tmp_path))), "README.md", "exec"), {})
    lake = ParquetLake(tmp_path)
    assert lake.dates(INFERENCE, MODEL) == [dt.date(2026, 1, 10), dt.date(2026, 1, 11)]
    assert lake.dates(LABELS, MODEL) == [dt.date(2026, 1, 12)]


def test_an_object_store_uri_is_refused_not_written_to_a_local_folder(tmp_path, monkeypatch) -> None:
    from driftpilot.errors import ConfigError

    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="only a local"):
        log_labels("s3://bucket/lake", MODEL, _labels(), source="outcome")
    assert list(tmp_path.iterdir()) == []


def test_nanosecond_times_keep_their_value_and_land_on_their_utc_day(tmp_path, elec2_config) -> None:
    """A pandas frame carries nanoseconds; a time just before midnight stays on its day, as sent."""
    frame = _predictions(n=2, start="2026-01-10 10:59", tz="Australia/Sydney")  # 23:59 UTC, then 00:59
    frame["event_time"] = frame["event_time"] + pd.to_timedelta([59_999_999_999, 1], unit="ns")
    logged = log_predictions(tmp_path, MODEL, frame, config=elec2_config)
    assert [(f.day.isoformat(), f.rows) for f in logged.files] == [("2026-01-09", 1), ("2026-01-10", 1)]
    lake = ParquetLake(tmp_path)
    back = pd.concat([lake.read(key) for day in lake.dates(INFERENCE, MODEL)
                      for key in lake.files(INFERENCE, MODEL, day)], ignore_index=True)
    assert sorted(back["event_time"]) == sorted(frame["event_time"].dt.tz_convert("UTC"))


def test_a_nan_label_is_missing_and_refused_whole(tmp_path) -> None:
    rows = [{"prediction_id": "a", "label": 1.0, "label_time": dt.datetime(2026, 1, 10, tzinfo=dt.UTC)},
            {"prediction_id": "b", "label": float("nan"), "label_time": dt.datetime(2026, 1, 10, tzinfo=dt.UTC)}]
    with pytest.raises(SchemaViolation, match="label"):
        log_labels(tmp_path, MODEL, rows, source="outcome")
    assert _files(tmp_path) == []


def test_the_same_rows_as_a_dataframe_or_as_dicts_are_one_file(tmp_path) -> None:
    """A retry that rebuilt its batch in another form (ns times from pandas, us from dicts) is recognised."""
    frame = pd.DataFrame({"prediction_id": ["a", "b"], "label": [1, 0],
                          "label_time": pd.to_datetime(["2026-01-10 08:00", "2026-01-10 09:00"]).tz_localize("UTC")})
    first = log_labels(tmp_path, MODEL, frame, source="outcome")
    again = log_labels(tmp_path, MODEL, frame.to_dict("records"), source="outcome")
    assert [f.written for f in first.files] == [True] and [f.written for f in again.files] == [False]
    assert len(_files(tmp_path)) == 1


def test_multiclass_score_columns_are_named_by_class_key_whatever_the_config_spelling(tmp_path) -> None:
    from driftpilot.domain.config import load_config
    from driftpilot.settings import INCLUDE_DIR

    config = load_config(INCLUDE_DIR / "config" / "covertype.yaml")
    config = dataclasses.replace(config, classes=tuple(float(c) for c in config.classes))
    assert len(config.classes) == 7
    keys = [str(int(c)) for c in config.classes]
    row = {"prediction_id": "p-1", "event_time": pd.Timestamp("2026-01-10 08:00", tz="UTC"), "model_version": "1",
           "prediction": 1, **{f: 1.0 for f in config.features.numeric},
           **{f: "x" for f in config.features.categorical}, **{f"score_{k}": 1 / len(keys) for k in keys}}
    logged = log_predictions(tmp_path, config.name, pd.DataFrame([row]), config=config)
    assert logged.rows == 1


def test_a_time_no_clock_can_give_names_the_column(tmp_path) -> None:
    rows = [{"prediction_id": "a", "label": 1, "label_time": dt.datetime(2999, 1, 1, tzinfo=dt.UTC)}]
    with pytest.raises(SchemaViolation, match="label_time"):
        log_labels(tmp_path, MODEL, rows, source="outcome")
    assert _files(tmp_path) == []
