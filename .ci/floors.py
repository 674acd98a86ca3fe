"""Print the lowest versions pyproject.toml admits for the light install, as pip constraints (`name==floor`).

`make test-floors` installs exactly these and runs the inference tests on them, so a floor in
pyproject.toml is a version that was tried, not a guess.
"""
from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def floors(requirements: list[str]) -> list[str]:
    pins = []
    for requirement in requirements:
        found = re.fullmatch(r"([A-Za-z0-9_.\-\[\]]+?)(\[[^\]]*\])?\s*>=\s*([0-9][^,;\s]*).*", requirement)
        if found is None:
            sys.exit(f"floors.py: {requirement!r} has no '>=' floor")
        pins.append(f"{found.group(1)}=={found.group(3)}")
    return pins


if __name__ == "__main__":
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    print("\n".join(floors(project["dependencies"])))
