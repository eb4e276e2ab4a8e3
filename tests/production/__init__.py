"""Production as the README says to run it: the commands of its Production section, the files in
``deploy/``, and the whole stack started from them and driven over HTTP."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
README = REPO_ROOT / "README.md"
DEPLOY = REPO_ROOT / "deploy"
ENV_EXAMPLE = DEPLOY / "consentoffice.env.example"

# `set -a && . FILE && set +a`: the environment file loaded into the shell that runs the commands.
ENV_LINE = re.compile(r"^set -a && \. (?P<path>\S+) && set \+a$")


@dataclass(frozen=True)
class Command:
    """One command of the README's Production block."""

    line: str
    kind: str  # "environment", "manage" (runs to its end), "web", "worker", "beat"

    @property
    def argv(self) -> list[str]:
        return shlex.split(self.line)

    @property
    def manage_command(self) -> str:
        argv = self.argv
        return argv[2] if self.kind == "manage" else ""


def _kind(line: str) -> str:
    argv = shlex.split(line)
    if ENV_LINE.match(line):
        return "environment"
    if argv[:2] == [".venv/bin/python", "manage.py"] and len(argv) > 2:
        return "manage"
    if argv[0] == ".venv/bin/gunicorn":
        return "web"
    if argv[:3] == [".venv/bin/celery", "-A", "consentoffice"] and argv[3:4] in (["worker"], ["beat"]):
        return argv[3]
    raise AssertionError(f"README, Production: a command the production tests do not know: {line!r}")


def production_section() -> str:
    text = README.read_text(encoding="utf-8")
    assert "\n## Production\n" in text, "README.md has no '## Production' section"
    return text.split("\n## Production\n", 1)[1].split("\n## ", 1)[0]


def production_commands() -> list[Command]:
    """The commands of the first ```sh block of README's Production section, in order, without
    comments and blank lines."""
    block = re.search(r"```sh\n(.*?)```", production_section(), re.S)
    assert block, "README, Production: no ```sh block of commands"
    commands = []
    for raw in block.group(1).splitlines():
        line = re.split(r"\s+#\s", raw, maxsplit=1)[0].strip()
        if line and not line.startswith("#"):
            commands.append(Command(line, _kind(line)))
    return commands


def env_file_variables(path: Path = ENV_EXAMPLE) -> dict[str, str]:
    """KEY=value lines of an environment file (comments and blank lines skipped)."""
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, sep, value = line.partition("=")
            assert sep and re.fullmatch(r"[A-Z][A-Z0-9_]*", key), f"{path.name}: not KEY=value: {line!r}"
            values[key] = value
    return values
