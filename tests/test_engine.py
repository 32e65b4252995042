"""socketlab.engine against the real Engine: what the lab reads from a container."""
import pytest

from socketlab import engine

pytestmark = pytest.mark.docker


def test_a_command_in_a_container_gives_its_status_even_when_the_engine_records_it_late(lab, monkeypatch):
    """The Engine may end an exec's output before it has recorded its exit status (then it says running,
    status None): the status is asked for again until known, never taken as None."""
    role = lab.start('nc', {'kind': 'netcat'})
    api = engine.client().api
    inspect, asked = api.exec_inspect, []

    def recorded_late(exec_id):
        asked.append(exec_id)
        state = inspect(exec_id)
        return {**state, 'Running': True, 'ExitCode': None} if len(asked) <= 3 else state
    monkeypatch.setattr(api, 'exec_inspect', recorded_late)
    assert engine.execute(role.docker, ['sh', '-c', 'echo out; exit 3']) == (3, b'out\n')
    assert len(asked) == 4
