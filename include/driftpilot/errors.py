"""Exceptions the core raises. The DAG layer maps them to Airflow behaviour.

Deterministic data problems (``ConfigError``, ``SchemaViolation``, ``CorruptFile``) should fail a
task without retry; ``InsufficientData`` means "nothing to do yet"; anything else (I/O) is left to
Airflow's retries. Every message says what is wrong and, where it can, what to do next.
"""

from __future__ import annotations


class DriftpilotError(Exception):
    """Base class of every error driftpilot raises on purpose."""


class ConfigError(DriftpilotError):
    """A model config file is missing, malformed or inconsistent with its data."""


class SchemaViolation(DriftpilotError):
    """A frame does not follow a data contract (inference log, labels, dataset)."""


class DataQualityFailure(SchemaViolation):
    """Too many rows of a window failed validation (or its file broke the schema): see the report."""


class CorruptFile(DriftpilotError):
    """A file in the lake cannot be read (truncated, not Parquet, unreadable)."""

    def __init__(self, path: str, cause: BaseException) -> None:
        self.path = path
        self.cause = cause
        super().__init__(
            f"cannot read Parquet file {path}: {type(cause).__name__}: {cause}. "
            "Move it aside (or re-run the step that wrote it) and try again."
        )


class BaselineNotFound(DriftpilotError):
    """No champion, a model version that is not registered, or a version without baseline artifacts.

    Only raised when the registry answered "does not exist": a registry or artifact store that
    could not be read raises its own error, which Airflow retries.
    """


class InsufficientData(DriftpilotError):
    """Too few rows to compute something honestly; the caller decides to skip or wait."""


class EmptyWindow(DriftpilotError):
    """A window has no inference logs and its config says that is an error (``window.when_empty: fail``).

    Deterministic (a retry finds the same empty partition): the run fails at once, and the
    message names the partition folders that were empty.
    """


class PromotionRefused(DriftpilotError):
    """A promotion or rollback driftpilot will not make: the message says why and what to do."""


class LockTimeout(DriftpilotError):
    """Another promotion of the same model holds the lock for too long (retried by Airflow)."""


class RegistryInconsistent(DriftpilotError):
    """The registry does not read back what driftpilot just wrote (someone else moved an alias)."""


class TrainerError(ConfigError):
    """The configured trainer (``retraining.trainer``) raised, or returned a model driftpilot cannot
    log or score. A ``ConfigError``: the user's code or config must change, so a retry would only
    train again to fail the same way."""
