"""Offboarding: someone leaves, and accessgov gives the exact list of what to undo.

(Being built: see the offboarding issue.)
"""

from __future__ import annotations

from accessgov.operation import Operation


def carry_out_scheduled(op: Operation) -> None:
    """Before every change: carry out offboardings whose leave date has come."""


def tick_satisfied(op: Operation) -> None:
    """After every change: tick the open checklist items the change has satisfied."""
