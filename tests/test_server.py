"""The embedded gunicorn's worker set-up (personapulse/server.py)."""

from __future__ import annotations

import gc

from personapulse.server import GC_YOUNG_THRESHOLD, _Application, least_held_cpu


def test_a_worker_loads_the_app_with_startup_objects_frozen_and_a_relaxed_young_gc():
    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        loaded = _Application(lambda: "the app", {"bind": "127.0.0.1:0", "workers": 1}).load()
        assert loaded == "the app"
        assert gc.get_threshold() == (GC_YOUNG_THRESHOLD, 10, 10)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def test_a_new_worker_gets_the_cpu_fewest_live_siblings_hold():
    assert least_held_cpu([0, 1], []) == 0
    assert least_held_cpu([0, 1], [0]) == 1
    assert least_held_cpu([0, 1], [0, 1]) == 0
    assert least_held_cpu([0, 1, 2, 3], [0, 0, 1, 3]) == 2
    # A replacement for a dead worker (its CPU no longer held) gets that CPU back.
    assert least_held_cpu([0, 1], [1, 0, 1]) == 0
    assert least_held_cpu([2, 5], [None, 2]) == 5
