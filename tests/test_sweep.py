"""A sweep removes one run's things and nothing else; without a run id it removes nothing at all (an
empty id once matched everything on the engine that had no run label)."""
import pytest

from socketlab import engine, sweep


def test_a_sweep_without_a_run_id_is_refused_before_it_asks_the_engine():
    with pytest.raises(ValueError):
        sweep.sweep('')
    assert not sweep.made_by({}, '') and not sweep.made_by({engine.RUN_LABEL: ''}, '')


def test_made_by_a_run_and_the_runs_it_started_only():
    assert sweep.made_by({engine.RUN_LABEL: 'ab12'}, 'ab12')
    assert sweep.made_by({engine.RUN_LABEL: 'ab12-bench-77'}, 'ab12')
    assert sweep.made_by({engine.PROJECT_LABEL: sweep.RUN_PROJECT_PREFIX + 'ab12-wire'}, 'ab12')
    assert sweep.made_by({engine.PROJECT_LABEL: sweep.RUN_PROJECT_PREFIX + 'ab12'}, 'ab12')
    assert not sweep.made_by({engine.RUN_LABEL: 'ab123'}, 'ab12')
    assert not sweep.made_by({engine.PROJECT_LABEL: sweep.RUN_PROJECT_PREFIX + 'ab123-wire'}, 'ab12')
    assert not sweep.made_by({engine.PROJECT_LABEL: 'socket-lab'}, 'ab12')
    assert not sweep.made_by({}, 'ab12')
