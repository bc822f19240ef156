"""``realnet_plugins.progress``: a tqdm bar on a terminal, a line every N seconds in a log."""
from __future__ import annotations

import io
import threading
import time

import pytest

from realnet_plugins.progress import Progress, format_seconds


class FakeClock:
    """Monotonic seconds that move only when a test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_in_a_log_a_heartbeat_line_comes_once_n_seconds_have_passed_on_a_fake_clock():
    clock, stream = FakeClock(), io.StringIO()
    with Progress("demo: packaging", every_s=30, stream=stream, clock=clock, background=False) as heartbeat:
        assert stream.getvalue().splitlines() == ["demo: packaging: started"]
        clock.now += 29.9
        assert not heartbeat.tick()
        clock.now += 0.1
        assert heartbeat.tick()
        assert not heartbeat.tick()  # the next one is due 30 s after this line
        clock.now += 95
        assert heartbeat.tick()
    assert stream.getvalue().splitlines()[1:] == [
        "demo: packaging: still running, 30 s",
        "demo: packaging: still running, 2 min 05 s",
        "demo: packaging: done in 2 min 05 s",
    ]


def test_in_a_log_counted_steps_give_a_line_with_count_share_and_time_left_at_most_every_n_seconds():
    clock, stream = FakeClock(), io.StringIO()
    with Progress("training realnet_s01", total=10, every_s=20, stream=stream, clock=clock,
                  background=False) as bar:
        for _ in range(4):
            clock.now += 6
            bar.update()  # 6, 12, 18 s: too soon; at 24 s a line
        bar.set_postfix("epoch 1")
        clock.now += 6
        bar.update()
    assert stream.getvalue().splitlines() == [
        "training realnet_s01: started (10 steps)",
        "training realnet_s01: 4/10 steps (40%), 24 s, about 36 s left",
        "training realnet_s01: done, 5 steps in 30 s",
    ]


def test_the_background_thread_writes_while_one_step_takes_longer_than_n_seconds():
    stream = io.StringIO()
    with Progress("scoring", total=1, unit="score", every_s=0.05, stream=stream):
        time.sleep(0.4)  # one long step: no update() call
    lines = stream.getvalue().splitlines()
    assert lines[0] == "scoring: started (1 score)" and lines[-1].startswith("scoring: done, 0 scores in")
    assert sum(line.startswith("scoring: 0/1 score (0%), ") for line in lines) >= 3
    assert not any(thread.name == "progress: scoring" for thread in threading.enumerate())


def test_on_a_terminal_a_tqdm_bar_is_drawn_and_no_log_lines():
    stream = Terminal()
    with Progress("training", total=3, stream=stream, every_s=0.01) as bar:
        for _ in range(3):
            bar.update()
        time.sleep(0.03)
        assert not bar.tick()
    text = stream.getvalue()
    assert "training" in text and "3/3" in text and "still running" not in text and "started" not in text


def test_a_phase_without_count_on_a_terminal_prints_its_start_and_end_only():
    stream = Terminal()
    with Progress("packaging", stream=stream, every_s=0.01):
        time.sleep(0.03)
    assert stream.getvalue().splitlines()[0] == "packaging …"
    assert stream.getvalue().splitlines()[1].startswith("packaging: done in")


def test_disabled_progress_writes_nothing_and_starts_no_thread():
    stream = io.StringIO()
    with Progress("quiet", total=2, enabled=False, stream=stream, every_s=0.01) as bar:
        bar.update(2)
        time.sleep(0.03)
    assert stream.getvalue() == "" and bar._thread is None


def test_an_interrupted_phase_says_so():
    clock, stream = FakeClock(), io.StringIO()
    with pytest.raises(KeyboardInterrupt):
        with Progress("training", total=5, stream=stream, clock=clock, background=False):
            clock.now += 3
            raise KeyboardInterrupt
    assert stream.getvalue().splitlines()[-1] == "training: stopped after 3 s (KeyboardInterrupt)"


def test_seconds_are_written_for_people():
    assert [format_seconds(s) for s in (0.4, 59, 61, 3599, 3720)] == ["0 s", "59 s", "1 min 01 s", "59 min 59 s",
                                                                      "1 h 02 min"]
    with pytest.raises(ValueError, match="every_s"):
        Progress("x", every_s=0)
