"""kit.retry: the full-jitter delay and the transaction-conflict give-up rule."""

import random

import pytest

from lambdasmith.kit.retry import CONFLICT_ATTEMPTS, full_jitter, retry_conflict


@pytest.mark.parametrize(("attempt", "ceiling"), [(0, 0.1), (1, 0.2), (2, 0.4), (3, 0.8), (4, 1.0), (30, 1.0)])
def test_the_ceiling_doubles_per_attempt_up_to_the_cap(attempt, ceiling):
    assert full_jitter(attempt, 0.1, 1.0, lambda: 1.0) == pytest.approx(ceiling)


def test_the_draw_scales_the_ceiling():
    assert full_jitter(2, 0.1, 1.0, lambda: 0.25) == pytest.approx(0.1)
    assert full_jitter(2, 0.1, 1.0, lambda: 0.0) == 0.0


def test_without_an_rng_random_random_is_drawn_at_call_time(monkeypatch):
    monkeypatch.setattr(random, "random", lambda: 0.5)
    assert full_jitter(1, 0.1, 1.0) == pytest.approx(0.1)


def test_a_conflict_pauses_longer_each_try_then_gives_up():
    slept: list[float] = []
    outcomes = [retry_conflict(["None", "TransactionConflict"], a, sleep=slept.append) for a in range(CONFLICT_ATTEMPTS)]
    assert outcomes == [True] * (CONFLICT_ATTEMPTS - 1) + [False]
    assert slept == pytest.approx([0.01, 0.02, 0.03, 0.04])


@pytest.mark.parametrize("reasons", [["ConditionalCheckFailed", None], [None, None], []])
def test_other_cancellations_are_not_retried(reasons):
    slept: list[float] = []
    assert retry_conflict(reasons, 0, sleep=slept.append) is False
    assert slept == []


def test_attempts_can_be_set():
    assert retry_conflict(["TransactionConflict"], 0, attempts=1, sleep=lambda s: None) is False
    assert retry_conflict(["TransactionConflict"], 1, attempts=3, sleep=lambda s: None) is True


def test_the_default_sleep_is_time_sleep_looked_up_at_call_time(monkeypatch):
    import time

    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    assert retry_conflict(["TransactionConflict"], 2) is True
    assert slept == pytest.approx([0.03])
