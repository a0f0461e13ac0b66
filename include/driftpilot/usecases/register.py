"""Register a model trained anywhere: attach driftpilot's baseline to a model the user already has.

``bootstrap`` trains driftpilot's own recipe; most users already have a model, on their own
tracking server. ``register_model`` takes it as a model URI and the user's reference Parquet (their
validation or holdout set, with the target) and builds exactly what bootstrap builds for its
champion: the reference sample scored by the model (outputs already in the file are used as
given, after checks), the profile, the holdout metrics and a model-agnostic feature importance.

* ``models:/<name>/<version>`` (or ``models:/<name>@<alias>``): that version itself becomes the
  monitored version, so the ``model_version`` the user's serving code logs is its number. The
  name must be the config's ``name``.
* any other URI (``runs:/...``, ``models:/m-<id>``, a local folder holding an ``MLmodel``): it is
  registered as a new version of the config's model (a local folder is copied into driftpilot's run
  first, so the version does not depend on the folder).

The baseline is recorded **without touching the user's own run**: a run of its own in
``driftpilot/<model>/baselines``, named by the version tag ``driftpilot.baseline_run`` (which the
registry prefers when it loads a version's baseline). Order: every check, the model load and the
scoring happen before the first registry write; the baseline run is reused by its idempotency key
(config fingerprint, model, reference digest); the tag that makes the baseline visible is written
last; ``champion`` moves only when asked. Running it again with the same inputs writes nothing new.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from driftpilot.domain.categories import ClassSet
from driftpilot.domain.config import ModelConfig, TaskType
from driftpilot.domain.contracts import PREDICTION
from driftpilot.domain.evidence import AliasMove
from driftpilot.domain.reference_data import (
    check_outputs,
    output_columns_in,
    prepare_reference_data,
)
from driftpilot.domain.training_data import training_data_digest
from driftpilot.errors import ConfigError, DriftpilotError, SchemaViolation
from driftpilot.ports import (
    BASELINE_RUN_TAG,
    CHALLENGER,
    CHAMPION,
    PREVIOUS,
    BaselineRun,
    FittedModel,
    Ports,
)
from driftpilot.usecases.bootstrap import baseline_metadata, reference_sample, write_baseline

log = logging.getLogger(__name__)

REFERENCE_DIGEST_TAG = "driftpilot.reference_digest"
REGISTERED_FROM_TAG = "driftpilot.registered_from"
_REGISTERED_VERSION = re.compile(r"^models:/(?P<name>[^/@]+)/(?P<version>[^/]+)$")
_ALIAS = re.compile(r"^models:/(?P<name>[^/@]+)@(?P<alias>[^/]+)$")


@dataclass(frozen=True)
class ModelSource:
    """Where the model to register is: an existing registry version, or a URI / folder to register."""

    uri: str  # as the user gave it
    registered_name: str | None = None  # models:/<name>/<version>: that version is the monitored one
    version: str | None = None
    alias: str | None = None  # models:/<name>@<alias>, resolved to a version before anything else
    local_dir: Path | None = None  # a folder holding an MLmodel file (copied into driftpilot's run)

    @property
    def existing_version(self) -> bool:
        return self.registered_name is not None


@dataclass(frozen=True)
class RegisterResult:
    model_name: str
    version: str
    created: bool  # a new registry version was created (False: the user's version, or one registered before)
    baseline_run: str
    baseline_reused: bool  # the baseline run of an earlier identical registration was reused
    champion: str | None
    metrics: dict[str, float]
    scored_columns: tuple[str, ...]  # outputs driftpilot computed with the model (the others were given)


def parse_model_uri(uri: str, is_dir: bool) -> ModelSource:
    """What kind of model URI ``uri`` is; ``ConfigError`` for an empty one."""
    text = uri.strip()
    if not text:
        raise ConfigError("no model URI given: pass --model-uri models:/<name>/<version>, runs:/<run_id>/<path> "
                          "or a folder holding an MLmodel file")
    match = _REGISTERED_VERSION.match(text)
    if match and not match["name"].startswith("m-"):
        return ModelSource(text, registered_name=match["name"], version=match["version"])
    match = _ALIAS.match(text)
    if match:
        return ModelSource(text, registered_name=match["name"], alias=match["alias"])
    if is_dir:
        return ModelSource(text, local_dir=Path(text))
    return ModelSource(text)


def baseline_experiment(config: ModelConfig) -> str:
    return f"driftpilot/{config.name}/baselines"


def register_model(config: ModelConfig, ports: Ports, model_uri: str, reference: Path | pd.DataFrame, *,
                   champion: bool = False, by: str = "driftpilot register", at: str = "") -> RegisterResult:
    """Attach a baseline built from ``reference`` to the model at ``model_uri`` (see the module doc).

    ``champion``: point the alias ``champion`` at the version (the former champion becomes
    ``previous``; both moves go to the promotion log as ``by`` at ``at``).
    """
    registry = ports.registry
    source = parse_model_uri(model_uri, is_dir=_is_local_dir(ports, model_uri))
    source = _resolve_existing(config, ports, source)

    # 1. everything that can fail on the user's input, before any registry write
    where = str(reference) if isinstance(reference, Path) else "reference data"
    frame = _read_reference(ports, reference)
    ref = prepare_reference_data(config, frame, where)
    model = _load(ports, source)
    scored, computed = _outputs(config, ports, model, ref, source.uri, where)
    classes = _classes(config, ports, model)
    check_outputs(config, scored, classes, f"{where} scored by {source.uri}")
    metrics = ports.trainer.evaluate(config, ref[config.target], scored)
    digest = training_data_digest(ref)
    identity = f"{source.registered_name}/{source.version}" if source.existing_version else source.uri
    if source.local_dir is not None:
        # A folder's contents can change under the same path (a model re-trained into ./model):
        # what the model answers on the reference tells the new one from the old.
        identity += ":" + training_data_digest(scored.reset_index(drop=True)).removeprefix("sha256:")[:12]
    key = f"register:{config.fingerprint}:{identity}:{digest.removeprefix('sha256:')[:12]}"
    try:
        metadata = baseline_metadata(ports.trainer, config, model, ref, metrics, {
            "classes": classes,
            "reference_data": {"source": where, "digest": digest, "rows": len(ref)},
            "model_uri": source.uri,
            "outputs": {"given": output_columns_in(ref), "scored_by_model": list(computed)},
            "reason": "registered with driftpilot (a model trained outside driftpilot)",
            "fingerprint": config.fingerprint,
        })
    except DriftpilotError:
        raise
    except Exception as exc:  # the model scored the rows but fails on shuffled ones: say so, write nothing
        raise SchemaViolation(f"{where}: feature importance failed scoring shuffled rows with {source.uri}: "
                              f"{type(exc).__name__}: {exc}") from exc
    reference_rows = reference_sample(config, ref, scored)

    # 2. registry writes: the baseline run (reused by key), the version, then the tag that shows it
    reused = registry.find_run_by_key(baseline_experiment(config), key) is not None
    with ports.files.scratch("baseline-") as folder:
        baseline_dir = write_baseline(ports.files, config, reference_rows, metadata, folder, seen=ref)
        run_id = registry.log_baseline_run(BaselineRun(
            experiment=baseline_experiment(config),
            baseline_dir=baseline_dir,
            idempotency_key=key,
            run_name=f"{config.name}-baseline",
            tags={REGISTERED_FROM_TAG: source.uri, REFERENCE_DIGEST_TAG: digest,
                  "driftpilot.fingerprint": config.fingerprint},
            params={"model_uri": source.uri, "reference_rows": len(ref), "reference_digest": digest},
            metrics={f"holdout_{k}": v for k, v in metrics.items()},
            model_uri=None if source.existing_version or source.local_dir else source.uri,
            model_dir=source.local_dir,
        ))
    if source.existing_version:
        version, created = str(source.version), False
    else:
        registered = registry.register_run(config.name, run_id, key, {REGISTERED_FROM_TAG: source.uri,
                                                                      REFERENCE_DIGEST_TAG: digest})
        version, created = registered.version, registered.created
    tags = registry.version_tags(config.name, version)
    wanted = {REGISTERED_FROM_TAG: source.uri, REFERENCE_DIGEST_TAG: digest}
    if any(tags.get(k) != v for k, v in wanted.items()):
        registry.set_version_tags(config.name, version, wanted)
    if tags.get(BASELINE_RUN_TAG) != run_id:
        registry.attach_baseline(config.name, version, run_id)
    log.info("%s version %s: baseline run %s (%s)", config.name, version, run_id, "reused" if reused else "new")

    current = registry.alias_version(config.name, CHAMPION)
    if champion and current != version:
        _crown(ports, config.name, version, current, by, at)
        current = version
    return RegisterResult(config.name, version, created, run_id, reused, current, metrics, tuple(computed))


def _is_local_dir(ports: Ports, uri: str) -> bool:
    text = uri.strip()
    if not text or re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:/", text):
        return False
    return ports.files.exists(Path(text) / "MLmodel")


def _resolve_existing(config: ModelConfig, ports: Ports, source: ModelSource) -> ModelSource:
    """Check a ``models:/<name>/...`` source against the config and the registry (no write)."""
    if not source.existing_version:
        return source
    name = str(source.registered_name)
    if name != config.name:
        raise ConfigError(
            f"model URI {source.uri!r} names the registered model {name!r}, but the config "
            f"{config.path or ''} monitors {config.name!r}: set `name: {name}` in the model config (the config's "
            f"name is the registered model's name), or copy the version into a registered model named {config.name!r}"
        )
    version = source.version
    if source.alias is not None:
        version = ports.registry.alias_version(name, source.alias)
        if version is None:
            raise ConfigError(f"model URI {source.uri!r}: {name} has no alias {source.alias!r} in the registry of "
                              "MLFLOW_TRACKING_URI; give the version number (models:/<name>/<version>)")
    if ports.registry.find_version(name, str(version)) is None:
        raise ConfigError(
            f"model URI {source.uri!r}: {name} has no version {version!r} in the registry of MLFLOW_TRACKING_URI "
            "(check the version number, and that MLFLOW_TRACKING_URI points at your tracking server)"
        )
    return ModelSource(source.uri, registered_name=name, version=str(version))


def _read_reference(ports: Ports, reference: Path | pd.DataFrame) -> pd.DataFrame:
    if isinstance(reference, pd.DataFrame):
        return reference
    if not ports.files.exists(reference):
        raise ConfigError(f"reference file {reference} does not exist; give a Parquet file of your validation or "
                          "holdout set (the config's features and target)")
    return ports.files.read_frame(reference)


def _load(ports: Ports, source: ModelSource) -> FittedModel:
    if source.existing_version:
        return ports.registry.load_model(str(source.registered_name), str(source.version))
    return ports.registry.load_model_uri(source.uri)


def _outputs(config: ModelConfig, ports: Ports, model: FittedModel, ref: pd.DataFrame, uri: str,
             where: str) -> tuple[pd.DataFrame, list[str]]:
    """The model's outputs on the reference rows, with the columns the file already holds used as given."""
    try:
        scored = ports.trainer.predict(config, model, ref)
    except ConfigError:
        raise  # the fix is in the config (e.g. its `classes`): the message says which key
    except DriftpilotError as exc:
        raise SchemaViolation(f"{where}: the model {uri} cannot score it for a {config.task.value} task: {exc}") from exc
    except Exception as exc:
        raise SchemaViolation(
            f"{where}: scoring it with the model {uri} failed ({type(exc).__name__}: {exc}); the model must "
            f"accept the config's features {list(config.features.all)} as a DataFrame and return outputs "
            f"that fit a {config.task.value} task"
        ) from exc
    given = [c for c in output_columns_in(ref) if c in scored.columns]
    for column in given:
        values = ref[column]
        scored[column] = (values.astype(object) if column == PREDICTION and config.task is not TaskType.REGRESSION
                          else values).to_numpy()
    return scored, [c for c in scored.columns if c not in given]


def _classes(config: ModelConfig, ports: Ports, model: FittedModel) -> list[str]:
    """The classifier's classes as canonical keys: fitted, else declared (``[]`` for regression)."""
    if config.task is TaskType.REGRESSION:
        return []
    fitted = ports.trainer.fitted_classes(model)
    if fitted:
        return list(fitted)
    return list(ClassSet.of(config.classes, "config").keys) if config.classes else []


def _crown(ports: Ports, model: str, version: str, current: str | None, by: str, at: str) -> None:
    """``champion`` -> ``version`` (the old champion -> ``previous``), each move in the promotion log."""
    moves = []
    reason = "registered with --champion"
    with ports.store.held_lock(f"promotion:{model}", f"register v{version} by {by}"):
        if current is not None:
            old_previous = ports.registry.alias_version(model, PREVIOUS)
            ports.registry.set_alias(model, PREVIOUS, current)
            moves.append(AliasMove(model, PREVIOUS, old_previous, current, by, at, reason))
        ports.registry.set_alias(model, CHAMPION, version)
        moves.append(AliasMove(model, CHAMPION, current, version, by, at, reason))
        challenger = ports.registry.alias_version(model, CHALLENGER)
        verdict = ports.store.gate_verdict(model, challenger) if challenger is not None else None
        # A challenger was judged against the champion of its day: against this one it never was,
        # so it must not stay one approval away from replacing the model just registered.
        if challenger is not None and (challenger == version or verdict is None
                                       or verdict.champion_version != version):
            ports.registry.delete_alias(model, CHALLENGER)
            moves.append(AliasMove(model, CHALLENGER, challenger, None, by, at,
                                   reason if challenger == version else
                                   f"{reason}: its gate compared it with another champion; retrain to compare it with v{version}"))
        for move in moves:
            ports.store.append_promotion(move)
    log.info("%s: champion -> version %s (%s)", model, version, reason)
