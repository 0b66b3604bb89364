"""requirements.txt and environment.yml pin the same versions."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins_from_requirements(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        assert sep, f"{path.name}: {line!r} is not an exact pin (name==version)"
        pins[_normal(name)] = version.strip()
    return pins


def pins_from_environment(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^\s*-\s*([A-Za-z0-9_.\-]+)\s*=\s*([^=\s#]+)\s*$", line)
        if match and match.group(1) != "python":
            pins[_normal(match.group(1))] = match.group(2)
    return pins


def test_requirements_and_environment_agree() -> None:
    requirements = pins_from_requirements(ROOT / "requirements.txt")
    environment = pins_from_environment(ROOT / "environment.yml")
    assert requirements == environment, (
        f"only in requirements.txt: {sorted(set(requirements.items()) - set(environment.items()))}; "
        f"only in environment.yml: {sorted(set(environment.items()) - set(requirements.items()))}"
    )


def test_dev_requirements_are_pinned() -> None:
    assert pins_from_requirements(ROOT / "requirements-dev.txt")


def test_installed_versions_match_the_pins() -> None:
    from importlib.metadata import version

    for name, pinned in pins_from_requirements(ROOT / "requirements.txt").items():
        assert version(name) == pinned, f"{name} {version(name)} installed, {pinned} pinned: rerun `make test`"
