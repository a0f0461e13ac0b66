"""Search filters of the MLflow adapter against a real MLflow SQLite store: quotes neither break nor widen.

MLflow's filter parser strips a literal's quotes and unescapes nothing, so a name or value with
``'`` used to end the literal early (an error, or a search that matched more than asked).
"""

from __future__ import annotations

import dataclasses

import pytest

from driftpilot.adapters import mlflow_registry as registry
from driftpilot.adapters.mlflow_registry import MlflowRegistry, run_filter, version_filter
from driftpilot.ports import KEY_TAG

pytestmark = pytest.mark.integration

HOSTILE = ["o'brien", 'say "hi"', "x' or name='victim", "both ' and \"", "back\\slash'", "plain"]


@pytest.fixture(scope="module")
def store(tmp_path_factory, shared_settings) -> MlflowRegistry:
    home = tmp_path_factory.mktemp("registry-filters")
    settings = dataclasses.replace(shared_settings, home=home, mlflow_tracking_uri=f"sqlite:///{home / 'mlflow.db'}",
                                   mlflow_artifacts=home / "artifacts")
    reg = MlflowRegistry(settings)
    for name in [*HOSTILE, "victim"]:
        reg.client.create_registered_model(name)
        for key in (f"key of {name}", "x' or tag.k='y", "shared"):
            reg.client.create_model_version(name, "file:///nowhere", tags={KEY_TAG: key, "k": "y"})
    return reg


@pytest.mark.parametrize("name", HOSTILE)
def test_a_quoted_name_finds_exactly_its_own_versions(store: MlflowRegistry, name: str) -> None:
    found = store.find_version_by_key(name, f"key of {name}")
    assert found is not None and found.name == name and found.version == "1"
    assert store.search_versions(name, KEY_TAG, "shared") == ["3"]
    assert store.search_versions(name, "k", "y") == ["1", "2", "3"]


@pytest.mark.parametrize("name", HOSTILE)
def test_a_quoted_tag_value_matches_only_itself(store: MlflowRegistry, name: str) -> None:
    assert store.search_versions(name, KEY_TAG, "x' or tag.k='y") == ["2"]
    assert store.search_versions(name, KEY_TAG, "key of victim") == []  # another model's key: not widened
    assert store.find_version_by_key(name, "' or '1'='1") is None


def test_a_run_key_with_quotes_is_found_exactly(store: MlflowRegistry) -> None:
    experiment = store.ensure_experiment("filters/runs")
    for key in ("a'b", "a", 'say "b"'):
        run = store.client.create_run(experiment, tags={KEY_TAG: key})
        store.client.set_terminated(run.info.run_id)
    found = store.find_run_by_key("filters/runs", "a'b")
    assert found is not None and store.client.get_run(found).data.tags[KEY_TAG] == "a'b"
    assert store.find_run_by_key("filters/runs", "a' or tags.x = 'y") is None


def test_filters_quote_with_the_quote_a_value_lacks_and_say_when_they_cannot(store: MlflowRegistry) -> None:
    assert version_filter("m", {KEY_TAG: "k"}) == (f"name='m' and tag.`{KEY_TAG}`='k'", True)
    assert version_filter("o'brien", {"t": 'say "hi"'}) == ("name=\"o'brien\" and tag.`t`='say \"hi\"'", True)
    assert version_filter("both ' and \"", {"t": "v"}) == ("tag.`t`='v'", False)  # matched exactly by the adapter
    assert version_filter("m", {"t": "back\\slash"}) == ("name='m'", False)
    assert run_filter({"a`b": "v"}, finished=True) == ("attributes.status = 'FINISHED'", False)


def test_the_adapter_keeps_one_client_and_leaves_the_global_uri_alone(store: MlflowRegistry) -> None:
    import mlflow

    before = mlflow.get_tracking_uri()
    client = store.client
    store.aliases("plain")
    store.version_tags("plain", "1")
    store.search_versions("plain", "k", "y")
    assert store.client is client
    assert mlflow.get_tracking_uri() == before
    assert registry.MlflowRegistry(store.settings).client is not client  # one client per registry object
