"""Counting what an operator does in the browser, for the click budgets of the common tasks.

An *action* is what costs a person a decision and a movement: a click, a choice in a select or a
checkbox, a submit by Enter. Typing into a field is recorded too but not counted — the budgets of
issue 16 count actions; the typed fields are reported beside them. Every budgeted test saves its
actions, in order, to ``test-artifacts/click-budgets/<task>.json`` so a reviewer can see exactly
what was counted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "click-budgets"


@dataclass
class Actions:
    page: object
    task: str
    steps: list[tuple[str, str]] = field(default_factory=list)
    typed: int = 0

    @property
    def count(self) -> int:
        return len(self.steps)

    def _settle(self) -> None:
        self.page.wait_for_load_state("networkidle")

    def click(self, locator, what: str) -> None:
        locator.click()
        self.steps.append(("click", what))
        self._settle()

    def select(self, locator, value: str, what: str) -> None:
        locator.select_option(value)
        self.steps.append(("select", what))
        self._settle()

    def check(self, locator, what: str) -> None:
        locator.check()
        self.steps.append(("select", what))

    def submit(self, locator, what: str) -> None:
        """Enter in a field: a submit."""
        locator.press("Enter")
        self.steps.append(("submit", what))
        self._settle()

    def type(self, locator, text: str) -> None:
        locator.fill(text)
        self.typed += 1

    def within(self, budget: int) -> None:
        """Save the record, then fail when the task took more actions than its budget."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        record = {
            "task": self.task,
            "budget": budget,
            "actions": self.count,
            "typed_fields": self.typed,
            "steps": [f"{kind}: {what}" for kind, what in self.steps],
        }
        (ARTIFACTS / f"{self.task}.json").write_text(json.dumps(record, ensure_ascii=False, indent=1))
        assert self.count <= budget, f"{self.task}: {self.count} actions, budget {budget}: {record['steps']}"
