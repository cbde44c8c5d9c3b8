"""Prints requirements from pyproject.toml, one a line: the project's dependencies, then those of
each extra named on the command line.

    python scripts/requirements.py dev | pip install -r /dev/stdin

`make lint` installs its tools (the `dev` extra) and the dependencies whose types mypy reads
this way, without building the compiled extension.
"""

from __future__ import annotations

import sys
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python 3.9 and 3.10: `make lint` installs tomli first
    import tomli as tomllib

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def main() -> None:
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    extras = project.get("optional-dependencies", {})
    unknown = [name for name in sys.argv[1:] if name not in extras]
    if unknown:
        sys.exit(f"no extra {', '.join(map(repr, unknown))} in {PYPROJECT}; its extras: {', '.join(extras)}")
    for requirement in [*project["dependencies"], *(r for name in sys.argv[1:] for r in extras[name])]:
        print(requirement)


if __name__ == "__main__":
    main()
