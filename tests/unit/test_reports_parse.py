"""Pure helpers of the Evidently adapter: no Evidently import, hand-built snapshot dicts."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from driftpilot.adapters.evidently import methods, parse, render
from driftpilot.adapters.evidently import plan as planning
from driftpilot.errors import ConfigError


def _value_drift(metric_id: str, column: str, method: str, threshold: float, value: float) -> dict:
    return {
        "id": metric_id,
        "metric_name": f"ValueDrift(column={column},method={method},threshold={threshold})",
        "config": {"type": "evidently:metric_v2:ValueDrift", "column": column, "method": method, "threshold": threshold},
        "value": value,
    }


def _test(metric_id: str, status: str) -> dict:
    return {"id": "drift", "metric_config": {"metric_id": metric_id, "params": {}}, "status": status}


@pytest.mark.parametrize(
    ("method", "value", "threshold", "expected"),
    [
        ("wasserstein", 0.2, 0.1, True),
        ("wasserstein", 0.1, 0.1, True),  # distances: at the threshold is drift
        ("wasserstein", 0.05, 0.1, False),
        ("psi", 0.3, 0.2, True),
        ("jensenshannon", 0.01, 0.1, False),
        ("ed", 0.1, 0.1, False),  # energy distance is strict
        ("ks", 0.01, 0.05, True),  # p-values: small is drift
        ("ks", 0.05, 0.05, True),
        ("ks", 0.5, 0.05, False),
        ("chisquare", 0.05, 0.05, False),
        ("z", 0.001, 0.05, True),
        ("wasserstein", float("nan"), 0.1, None),
        ("no_such_method", 0.5, 0.1, None),
    ],
)
def test_drift_direction_depends_on_the_method(method: str, value: float, threshold: float, expected: bool | None) -> None:
    assert methods.is_drift(method, value, threshold) is expected


def test_parse_drift_finds_metrics_by_identity_not_position() -> None:
    snapshot = {
        "metrics": [
            _value_drift("b", "x2", "ks", 0.05, 0.001),
            {
                "id": "count",
                "config": {"type": "evidently:metric_v2:DriftedColumnsCount", "drift_share": 0.3},
                "value": {"count": 2.0, "share": 2 / 3},
            },
            _value_drift("a", "x1", "wasserstein", 0.1, 0.02),
            _value_drift("c", "cat", "jensenshannon", 0.1, 0.4),
        ],
        "tests": [_test("c", "FAIL"), _test("a", "SUCCESS"), _test("b", "FAIL"), _test("count", "FAIL")],
    }
    rows = {(r.metric, r.column): r for r in parse.parse_drift(snapshot, 0.3)}
    assert rows[("value_drift", "x1")] == parse.ReportMetric("value_drift", "x1", 0.02, "wasserstein", 0.1, False)
    assert rows[("value_drift", "x2")].drifted is True  # p-value below threshold
    assert rows[("value_drift", "cat")].drifted is True
    assert rows[("drifted_columns_count", None)].value == 2.0
    share = rows[("drifted_columns_share", None)]
    assert share.value == pytest.approx(2 / 3)
    assert share.threshold == 0.3
    assert share.drifted is True


def test_parse_drift_without_tests_falls_back_to_the_method_direction() -> None:
    snapshot = {"metrics": [_value_drift("a", "x", "ks", 0.05, 0.01), _value_drift("b", "y", "psi", 0.2, 0.01)]}
    rows = {r.column: r for r in parse.parse_drift(snapshot, 0.5)}
    assert rows["x"].drifted is True
    assert rows["y"].drifted is False


def test_nan_drift_values_do_not_poison_the_share() -> None:
    rows = [
        parse.ReportMetric("value_drift", "a", 0.5, "wasserstein", 0.1, True),
        parse.ReportMetric("value_drift", "b", 0.01, "wasserstein", 0.1, False),
        parse.ReportMetric("value_drift", "c", float("nan"), "wasserstein", 0.1, None),
        parse.ReportMetric("drifted_columns_share", None, 0.5, None, 0.3, True),
    ]
    share, drifted = parse.drift_outcome(rows, untestable=())
    assert share == 0.5
    assert drifted == ("a",)
    share, drifted = parse.drift_outcome(rows, untestable=("gone",))
    assert share == pytest.approx(2 / 3)
    assert drifted == ("a", "gone")
    assert parse.ReportMetric("value_drift", "c", float("nan")).to_dict()["value"] is None


def test_parse_performance_and_quality_by_type() -> None:
    performance = {
        "metrics": [
            {"id": "1", "config": {"type": "evidently:metric_v2:RocAuc"}, "value": 0.9},
            {"id": "2", "config": {"type": "evidently:metric_v2:Accuracy"}, "value": 0.8},
            {"id": "3", "config": {"type": "evidently:metric_v2:F1ByLabel"}, "value": {"0": 0.7, "1": 0.8}},
            {"id": "4", "config": {"type": "evidently:metric_v2:MAE"}, "value": {"mean": 1.5, "std": 0.2}},
        ]
    }
    assert {r.metric: r.value for r in parse.parse_performance(performance)} == {
        "roc_auc": 0.9,
        "accuracy": 0.8,
        "mae": 1.5,
    }
    quality = {
        "metrics": [
            {"id": "1", "config": {"type": "evidently:metric_v2:RowCount"}, "value": 300.0},
            {"id": "2", "config": {"type": "evidently:metric_v2:MissingValueCount", "column": "x"},
             "value": {"count": 30.0, "share": 0.1}},
            {"id": "3", "config": {"type": "evidently:metric_v2:MeanValue", "column": "x"}, "value": 2.5},
            {"id": "4", "config": {"type": "evidently:metric_v2:ColumnCount", "column_type": "num"}, "value": 3.0},
        ]
    }
    rows = {(r.metric, r.column): r.value for r in parse.parse_quality(quality)}
    assert rows == {
        ("row_count", None): 300.0,
        ("missing_value_share", "x"): 0.1,
        ("missing_value_count", "x"): 30.0,
        ("mean", "x"): 2.5,
    }
    assert {parse.metric_part(m) for m, _ in rows} == {"quality"}
    assert parse.metric_part("value_drift") == "drift"
    assert parse.metric_part("roc_auc") == "performance"


def test_json_safe_gives_strict_json() -> None:
    payload = {"a": [1.0, float("nan")], "b": {"c": float("inf")}, "d": "x"}
    text = json.dumps(parse.json_safe(payload), allow_nan=False)
    assert json.loads(text) == {"a": [1.0, None], "b": {"c": None}, "d": "x"}


def test_bounded_sample_is_seeded_and_keeps_order() -> None:
    frame = pd.DataFrame({"i": range(1000)})
    assert planning.bounded_sample(frame, 1000, 1) is frame
    one = planning.bounded_sample(frame, 100, 7)
    two = planning.bounded_sample(frame, 100, 7)
    assert len(one) == 100
    assert one["i"].tolist() == two["i"].tolist()
    assert one["i"].is_monotonic_increasing
    assert one["i"].tolist() != planning.bounded_sample(frame, 100, 8)["i"].tolist()


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([0.003467] * 50, True),
        ([0.1 + 0.2, 0.3, 0.30000000000000004], True),  # float noise
        ([1.0, np.nan, 1.0], True),
        ([0.0, 0.001], False),
        ([np.nan, np.nan], False),
    ],
)
def test_is_constant(values: list[float], expected: bool) -> None:
    assert planning.is_constant(pd.Series(values)) is expected


def test_plan_pins_methods_and_replaces_wasserstein_on_constant_reference(elec2_config) -> None:
    config = elec2_config
    n = 60
    rng = np.random.default_rng(0)
    reference = pd.DataFrame({c: rng.random(n) for c in config.features.numeric})
    reference["vicprice"] = 0.003467
    reference["day_of_week"] = "1"
    reference["score"] = rng.random(n)
    reference["prediction"] = 1
    current = reference.copy()
    current["transfer"] = np.nan  # a column that vanished from the window
    plan = planning.plan_columns(config, reference, current)
    assert plan.numeric == (*config.features.numeric, "score")
    assert plan.categorical == ("day_of_week", "prediction")
    assert plan.methods["vicprice"] == methods.CONSTANT_REFERENCE_METHOD
    assert plan.methods["nswprice"] == "wasserstein"
    assert plan.methods["day_of_week"] == "jensenshannon"
    assert plan.untestable == ("transfer",)
    assert "transfer" not in plan.drift_columns
    assert any("vicprice" in note and "constant" in note for note in plan.notes)

    explicit = _with_evidently(config, per_column_method={"vicprice": "ks"})
    assert planning.plan_columns(explicit, reference, current).methods["vicprice"] == "ks"

    broken = _with_evidently(config, num_method="wassertein")
    with pytest.raises(ConfigError, match="unknown drift method 'wassertein'"):
        planning.plan_columns(broken, reference, current)


def _with_evidently(config, **changes):
    evidently = dataclasses.replace(config.reports.evidently, **changes)
    return dataclasses.replace(config, reports=dataclasses.replace(config.reports, evidently=evidently))


def test_the_adapter_modules_do_not_import_evidently_at_import_time() -> None:
    package = Path(methods.__file__).parent
    for module in package.glob("*.py"):
        source = module.read_text()
        top_level = [line for line in source.splitlines() if line.startswith(("import evidently", "from evidently"))]
        assert top_level == [], module.name
        if module.name != "run.py":  # the one module that calls Evidently (inside functions)
            assert "evidently import" not in source.replace("driftpilot.adapters.evidently import", ""), module.name


HOSTILE = ["</script><script>alert(1)</script>", "</SCRIPT><img src=x onerror=alert(2)>", "</ScRiPt >",
           "<!--<script>", "\"><img src=x onerror=document.title='pwned'>", "a & b", "\u2028\u2029", "\\</script>"]


def _evidently_like_page(dashboard: object, graphs: object) -> str:
    """The layout of Evidently 0.7's ``file_html_template`` (data block in <head>, library after)."""
    return (
        "\n    <!DOCTYPE html>\n    <html lang=\"en\">\n    <head>\n        <style>p{}</style>\n        <script>\n"
        f"    var metric_0abc = {json.dumps(dashboard)};\n"
        f"    var additional_graphs_metric_0abc = {json.dumps(graphs)};\n</script>\n    </head>\n    <body>\n"
        "    <script>var global = globalThis</script>\n    <script>if (a < b && c) { x = '</' + 'div>'; }</script>\n"
        "    </body>\n    </html>\n"
    )


hostile_text = st.lists(st.sampled_from([*"<>&/!-\\\"'sScript\u2028 é", *HOSTILE]), max_size=6).map("".join)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | hostile_text | st.text(max_size=5),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(hostile_text, children, max_size=4),
    max_leaves=12,
)


@given(json_values)
def test_script_safe_json_keeps_the_value_and_leaves_no_angle_bracket(value: object) -> None:
    for text in (json.dumps(value), json.dumps(value, ensure_ascii=False)):
        safe = render.script_safe_json(text)
        assert json.loads(safe) == value
        assert not {"<", ">", "&", "\u2028", "\u2029"} & set(safe)


def test_inert_evidently_html_rewrites_only_the_embedded_data() -> None:
    dashboard = {"widgets": [{"title": value, value: [value]} for value in HOSTILE], "nan": float("nan")}
    graphs = {"g": {"x": HOSTILE}}
    page = _evidently_like_page(dashboard, graphs)
    inert = render.inert_evidently_html(page)
    head, body = inert.split("</head>")
    data = head[head.index("<script>") + len("<script>"): head.rindex("</script>")]
    assert "<" not in data and ">" not in data
    assert head.lower().count("<script") == 1 and head.lower().count("</script") == 1
    assert body == page.split("</head>", 1)[1]  # the library and the rest of the page: unchanged
    assert inert.startswith(page[: page.index("var metric_0abc = ")])
    # The data still decodes to the same values (NaN as JavaScript's NaN).
    lines = [line.strip() for line in data.strip().splitlines()]
    decoded = [json.loads(line.split(" = ", 1)[1].rstrip(";")) for line in lines]
    assert decoded[0]["widgets"] == dashboard["widgets"] and decoded[1] == graphs


@pytest.mark.parametrize(
    "page",
    [
        "<html><body>no data block</body></html>",
        "<html><head><script>var metric_1 = {\"a\": </script></head></html>",  # truncated JSON
        "<html><head><script>var metric_1 = {};\nvar something_else = {};</script></head></html>",
        "<html><head><script>var metric_1 = {};\nvar additional_graphs_metric_1 = {} + 1;</script></head></html>",
    ],
)
def test_a_page_of_another_layout_is_refused_not_written_unsafe(page: str) -> None:
    with pytest.raises(render.UnsafeReportPage):
        render.inert_evidently_html(page)
