"""`driftpilot env`: what the Makefile exports, for `eval "$(driftpilot env)"` without make."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DRIFTPILOT = Path(sys.executable).with_name("driftpilot")


def _makefile_exports() -> dict[str, str]:
    found = re.findall(r"^export (\w+) \?= (.*)$", (ROOT / "Makefile").read_text(), flags=re.M)
    return dict(found)


def _clean_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _makefile_exports() and not k.startswith("DRIFTPILOT_")}
    env["DRIFTPILOT_HOME"] = str(home)
    env["PATH"] = "/usr/bin:/bin"
    return env


def _evaluated(env: dict[str, str], *args: str) -> dict[str, str]:
    """The environment a shell has after `eval "$(driftpilot env)"`."""
    script = f'eval "$({DRIFTPILOT} env {" ".join(args)})" && env'
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env, check=True).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def test_it_sets_every_variable_the_makefile_exports(tmp_path) -> None:
    exports = _makefile_exports()
    assert len(exports) >= 10  # the parser sees the Makefile's lines
    got = _evaluated(_clean_env(tmp_path / "home"))
    assert set(exports) <= set(got)
    for name, value in exports.items():
        if "$(" not in value:  # constants: the same value as make
            assert got[name] == value, name
    assert got["DRIFTPILOT_HOME"] == str(tmp_path / "home")
    assert got["AIRFLOW_HOME"] == str(tmp_path / "home" / "airflow")  # $(DRIFTPILOT_HOME)/airflow
    assert got["AIRFLOW__CORE__DAGS_FOLDER"] == str(ROOT / "dags")  # $(CURDIR)/dags
    assert got["AIRFLOW__CORE__PLUGINS_FOLDER"] == str(ROOT / "plugins")
    assert got["PATH"].split(":")[0] == str(DRIFTPILOT.parent)  # airflow standalone finds its executables


def test_values_already_set_win_like_the_makefiles_conditional_assignment(tmp_path) -> None:
    env = _clean_env(tmp_path / "home") | {"AIRFLOW_HOME": "/srv/airflow", "AIRFLOW__CORE__PARALLELISM": "16"}
    got = _evaluated(env)
    assert got["AIRFLOW_HOME"] == "/srv/airflow" and got["AIRFLOW__CORE__PARALLELISM"] == "16"


def test_dotenv_format_has_no_export_and_quotes_spaces(tmp_path) -> None:
    env = _clean_env(tmp_path / "my home")
    out = subprocess.run([str(DRIFTPILOT), "env", "--format", "dotenv"], capture_output=True, text=True, env=env,
                         check=True).stdout.splitlines()
    assert out[0] == f"DRIFTPILOT_HOME='{tmp_path / 'my home'}'"
    assert not any(line.startswith("export ") or line.startswith("PATH=") for line in out)


def test_monitor_names_a_bad_window_date(capsys) -> None:
    from driftpilot import cli

    assert cli.main(["monitor", "--model", "elec2_updown", "--window", "10/01/2026"]) == 2
    assert "--window must be the window's first day as an ISO date like 2026-01-10, got '10/01/2026'" in capsys.readouterr().err


def test_monitor_refuses_a_window_off_the_configs_grid(tmp_path, monkeypatch, capsys) -> None:
    """A shifted window would overwrite a day's outputs and count twice in the trigger policy."""
    import yaml

    from driftpilot import cli

    data = yaml.safe_load((ROOT / "include" / "config" / "elec2.yaml").read_text())
    data["window"] = {"days": 7, "start": "2026-03-02"}
    (tmp_path / "weekly.yaml").write_text(yaml.safe_dump(data))
    monkeypatch.setenv("DRIFTPILOT_CONFIG_DIR", str(tmp_path))
    monkeypatch.setenv("DRIFTPILOT_HOME", str(tmp_path / "home"))
    assert cli.main(["monitor", "--model", "elec2_updown", "--window", "2026-03-04"]) == 2
    assert "the window holding 2026-03-04 starts on 2026-03-02" in capsys.readouterr().err
    assert cli.main(["monitor", "--model", "elec2_updown", "--window", "2026-03-09T12:00"]) == 2
    assert "ISO date" in capsys.readouterr().err


def test_a_manual_retrain_names_a_bad_as_of_and_a_conflicting_window(capsys) -> None:
    from driftpilot import cli

    assert cli.main(["retrain", "--model", "elec2_updown", "--reason", "now", "--as-of", "next tuesday"]) == 2
    assert "--as-of must be an ISO time" in capsys.readouterr().err
    assert cli.main(["retrain", "--model", "elec2_updown", "--reason", "now", "--window", "2026-01-07"]) == 2
    assert "give one of them" in capsys.readouterr().err
