"""One name, one type: no two classes of the product share a name.

Two types called alike (a history row and a report metric, a rule's action and a decision's)
get imported for each other, and a reader cannot tell from the name which one a signature means.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

PRODUCT = Path(__file__).resolve().parents[2] / "include" / "driftpilot"


def _classes(folder: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    for path in sorted(folder.rglob("*.py")):
        for node in ast.parse(path.read_text(), filename=str(path)).body:
            if isinstance(node, ast.ClassDef):
                found[node.name].append(str(path.relative_to(folder)))
    return found


def test_no_two_classes_share_a_name() -> None:
    assert {name: where for name, where in _classes(PRODUCT).items() if len(where) > 1} == {}


def test_the_checker_sees_a_shared_name(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("class Row:\n    pass\n")
    (tmp_path / "b.py").write_text("class Row:\n    pass\n\n\nclass Other:\n    pass\n")
    assert {n: w for n, w in _classes(tmp_path).items() if len(w) > 1} == {"Row": ["a.py", "b.py"]}
