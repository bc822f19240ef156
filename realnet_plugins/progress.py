"""Progress of long work: a tqdm bar on a terminal, a plain line every few seconds in a log.

A :class:`Progress` counts steps of known or unknown number. Where its stream is a terminal it
draws a tqdm bar (a phase without a count prints one line when it starts and one when it ends,
and leaves the screen to the bars of the work inside it). Elsewhere (a log file, a pipe, CI) it
writes one line when it starts, a line at least every ``every_s`` seconds while it runs, also
when no step ends for a long time (a background thread keeps time), and one line at the end::

    with Progress("training realnet_s01", total=19, unit="step") as bar:
        for batch in batches:
            step(batch)
            bar.update()

    with Progress("packaging THINGS-EEG2"):    # a phase with no steps to count: a heartbeat
        package_things_eeg2(release)

Lines read ``training realnet_s01: 12/19 steps (63%), 41 s, about 24 s left``.
"""
from __future__ import annotations

import sys
import threading
import time
from typing import Any, Callable, TextIO

#: Seconds between two lines in a log (the demo's promise: at least one line every 30 s).
DEFAULT_EVERY_S = 20.0


def format_seconds(seconds: float) -> str:
    """``41 s``, ``3 min 05 s``, ``1 h 02 min``."""
    seconds = max(0.0, float(seconds))
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, rest = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {rest:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class Progress:
    """Progress of one piece of work (see the module docstring).

    Args:
        desc: what is being done (``"training realnet_s01"``); starts every line.
        total: number of steps, or None for a phase without a count (a heartbeat).
        unit: name of a step (``"step"``; plural by adding ``s``).
        enabled: False: write nothing at all (``--quiet``).
        terminal: draw a tqdm bar; None: when ``stream`` is a terminal.
        every_s: seconds between lines when not on a terminal.
        stream: where to write (default ``sys.stderr``, as tqdm).
        clock: monotonic seconds (tests pass a fake clock).
        background: keep time in a daemon thread, so that a line comes every ``every_s`` seconds
            even while one step takes longer (tests pass False and call :meth:`tick`).
    """

    def __init__(self, desc: str, total: int | None = None, unit: str = "step", *, enabled: bool = True,
                 terminal: bool | None = None, every_s: float = DEFAULT_EVERY_S, stream: TextIO | None = None,
                 clock: Callable[[], float] = time.monotonic, background: bool = True) -> None:
        if every_s <= 0:
            raise ValueError(f"every_s: expected a positive number of seconds, found {every_s}")
        self.desc = desc
        self.total = total
        self.unit = unit
        self.count = 0
        self.postfix = ""
        self.enabled = enabled
        self.every_s = float(every_s)
        self._stream = stream if stream is not None else sys.stderr
        self._clock = clock
        self._started = clock()
        self._first_step: float | None = None
        self._last_line = self._started
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._bar: Any = None
        self._closed = False
        if terminal is None:
            isatty = getattr(self._stream, "isatty", None)
            terminal = bool(isatty and isatty())
        self.terminal = terminal
        if not enabled:
            return
        if terminal and total is not None:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=total, desc=desc, unit=unit, file=self._stream, dynamic_ncols=True)
            return
        self._write(f"{desc} …" if terminal else self._line("started"))
        if not terminal and background:
            self._thread = threading.Thread(target=self._keep_time, name=f"progress: {desc}", daemon=True)
            self._thread.start()

    # ------------------------------------------------------------------ counting

    def update(self, n: int = 1) -> None:
        """``n`` more steps done; in a log, write a line when ``every_s`` seconds have passed since the last."""
        if not self.enabled:
            return
        with self._lock:
            if self._first_step is None:
                self._first_step = self._clock()
            self.count += n
            if self._bar is not None:
                self._bar.update(n)
                return
        self.tick()

    def set_postfix(self, text: str) -> None:
        """A short note shown after the count (the item being worked on)."""
        self.postfix = text
        if self._bar is not None:
            self._bar.set_postfix_str(text, refresh=False)

    def tick(self) -> bool:
        """Write a line if ``every_s`` seconds have passed since the last one (not on a terminal).

        Returns:
            Whether a line was written.
        """
        if not self.enabled or self.terminal or self._closed:
            return False
        with self._lock:
            now = self._clock()
            if now - self._last_line < self.every_s:
                return False
            self._write(self._line(), now)
            return True

    def close(self) -> None:
        """End the work: stop the background thread and write the final line."""
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.close()
            return
        elapsed = self._clock() - self._started
        counted = f", {self.count} {self._units(self.count)}" if self.total is not None else ""
        self._write(f"{self.desc}: done{counted} in {format_seconds(elapsed)}")

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, kind: Any, error: Any, traceback: Any) -> None:
        if kind is not None and self._bar is None and self.enabled and not self._closed:
            self._closed = True
            self._stop.set()
            if self._thread is not None:
                self._thread.join()
            self._write(f"{self.desc}: stopped after {format_seconds(self._clock() - self._started)} "
                        f"({kind.__name__})")
            return
        self.close()

    # ------------------------------------------------------------------ lines

    def _units(self, n: int) -> str:
        return self.unit if n == 1 else f"{self.unit}s"

    def _line(self, state: str | None = None) -> str:
        elapsed = self._clock() - self._started
        if state is not None:
            text = f"{self.desc}: {state}"
            if self.total is not None:
                text += f" ({self.total} {self._units(self.total)})"
            return text
        if self.total is None:
            text = f"{self.desc}: still running, {format_seconds(elapsed)}"
        else:
            share = self.count / self.total if self.total else 1.0
            text = f"{self.desc}: {self.count}/{self.total} {self._units(self.total)} ({share:.0%}), " \
                   f"{format_seconds(elapsed)}"
            if self._first_step is not None and 1 < self.count < self.total:
                # the rate of the steps after the first (the first one also carries the setup)
                rate = (self._clock() - self._first_step) / (self.count - 1)
                text += f", about {format_seconds(rate * (self.total - self.count))} left"
        return text + (f" ({self.postfix})" if self.postfix else "")

    def _write(self, text: str, now: float | None = None) -> None:
        self._last_line = self._clock() if now is None else now
        self._stream.write(text + "\n")
        self._stream.flush()

    def _keep_time(self) -> None:
        while True:
            with self._lock:
                wait = self._last_line + self.every_s - self._clock()
            if self._stop.wait(timeout=max(wait, 0.0)):
                return
            self.tick()
