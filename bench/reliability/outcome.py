"""The result of one scenario: counts, the checks that decide pass/fail, and the evidence."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field


@dataclass
class Outcome:
    """What one scenario tried and what it found; ``passed`` only when every check holds."""

    scenario: str
    pipeline: str
    counts: dict[str, t.Any]
    checks: dict[str, bool]
    details: dict[str, t.Any] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        """Every check held."""
        return all(self.checks.values())

    @property
    def failed_checks(self) -> list[str]:
        """Names of the checks that did not hold."""
        return [name for name, ok in self.checks.items() if not ok]

    def to_dict(self) -> dict[str, t.Any]:
        """JSON-friendly form for bench/results/reliability.json."""
        return {
            "scenario": self.scenario,
            "pipeline": self.pipeline,
            "passed": self.passed,
            "counts": self.counts,
            "checks": self.checks,
            "details": self.details,
            "seconds": round(self.seconds, 1),
        }


def summary_adds_up(summary: dict[str, t.Any]) -> bool:
    """received = delivered + rejected + skipped in a target's run summary."""
    if not summary:
        return False
    total = int(summary["delivered"]) + int(summary["rejected"]) + int(summary["skipped"])
    return int(summary["received"]) == total
