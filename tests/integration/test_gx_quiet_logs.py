"""Great Expectations' INFO chatter stays out of task logs; driftpilot's own lines and GX's warnings stay.

Run in a fresh interpreter: GX logs while it is imported, which happens once per process (and
pytest may have imported it already), and a task process is a fresh interpreter too.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration

SCRIPT = r"""
import json, logging, sys
records = []

class Keep(logging.Handler):
    def emit(self, record):
        records.append((record.name, record.levelno))

logging.basicConfig(level=logging.INFO, handlers=[Keep()])  # what a task log records: INFO and up
import pandas as pd
from driftpilot.adapters.gx_validation import run_gx
from driftpilot.domain.validation_rules import EXPECT_BETWEEN, Rule, RuleAction

rule = Rule("price_range", EXPECT_BETWEEN, "price", {"min_value": 0, "max_value": 1}, RuleAction.QUARANTINE)
runs, _ = run_gx(pd.DataFrame({"price": [0.1, 0.5, 7.0]}), [rule], "quiet_logs")
logging.getLogger("great_expectations.probe").warning("a GX warning still shows")
logging.getLogger("driftpilot.probe").info("driftpilot's own line still shows")
print(json.dumps({"records": records, "rules": sorted(runs)}))
"""


def test_a_validation_logs_no_great_expectations_info_lines() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=300, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["rules"] == ["price_range"]  # GX really ran the rule
    records = result["records"]
    gx_info = [name for name, level in records if name.startswith("great_expectations") and level < 30]
    assert gx_info == [], f"{len(gx_info)} GX INFO lines reached the log: {sorted(set(gx_info))[:5]}"
    assert ["great_expectations.probe", 30] in records  # warnings are not silenced
    assert ["driftpilot.probe", 20] in records
