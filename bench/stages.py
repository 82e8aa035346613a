# SPDX-License-Identifier: MIT
"""The stage clock of the Python benchmarks: the same stages, and the same
split of the library's "validate" reports out of loading, as the CLI's and
the C benchmarks' (tools/stages.c), so every JSON line can say where its
time went ({"load": s, "validate": s, "build": s, "select": s, ...})."""
from __future__ import annotations

import time
from typing import Optional


class Stages:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forgets every stage; none is running."""
        self.seconds: dict[str, float] = {}
        self._running: Optional[str] = None
        self._since = 0.0
        self._validating = False
        self._resume: Optional[str] = None

    def _switch(self, name: Optional[str]) -> None:
        now = time.perf_counter()
        if self._running is not None:
            self.seconds[self._running] += now - self._since
        if name is not None:
            self.seconds.setdefault(name, 0.0)
        self._running, self._since = name, now

    def begin(self, name: Optional[str]) -> None:
        """Ends the running stage and starts `name` (None: no stage)."""
        self._validating = False
        self._switch(name)

    def progress(self, stage: str, done: int, total: int) -> bool:
        """A progress callback for subsel calls: the time between the
        library's first and last "validate" report is "validate", and the
        stage it interrupted goes on afterwards. Never cancels."""
        if stage == "validate":
            if done == 0 and not self._validating:
                self._validating, self._resume = True, self._running
                self._switch("validate")
            elif done >= total and self._validating:
                self._validating = False
                self._switch(self._resume)
        return False

    def take(self) -> dict[str, float]:
        """Ends the running stage; returns the stages, rounded, and starts
        afresh (the next JSON line's)."""
        self.begin(None)
        out = {k: round(v, 4) for k, v in self.seconds.items()}
        self.reset()
        return out
