"""make loss-table in a small configuration: its three tables' shape, the certain figures (no loss:
every datagram and exchange; a delay loses nothing; the simple server serves nobody while one client
is cut off, the threads stage everybody), never a time; and the lab healed and as it was afterwards."""
import pytest

from makeplay import LESSON, impairments, project_name, run

pytestmark = [pytest.mark.measure, pytest.mark.docker, pytest.mark.xdist_group('loss-table'), pytest.mark.timeout(600)]  # a minute alone
PROJECT = project_name('-loss-table')


@pytest.fixture(scope='module')
def table():
    run(PROJECT, 'lab')
    # one exchange a row, one client behind the cut-off one (what each table must show; silent for its 5 s
    # alone, the simple server's other client waiting its timeout)
    output, status = run(PROJECT, 'loss-table', env={'LOSSES': '0', 'DELAYS': '100ms', 'RUNS': '1', 'CUT_OFF_OTHERS': '1'},
                         timeout=300)
    yield output, status
    run(PROJECT, 'down')


def cells(line):
    return [cell.strip() for cell in line.strip('|').split('|')]


def test_no_loss_and_a_delay_lose_nothing(table):
    output, status = table
    assert status == 0, output
    loss_rows = [cells(line) for line in output if line.startswith('| 0% |')]
    assert [row[:3] for row in loss_rows] == [['0%', '200', '1']]
    delay_rows = [cells(line) for line in output if line.startswith('| 100ms |')]
    assert [row[:4] for row in delay_rows] == [['100ms', '0%', '200', '1'], ['100ms', '10%', delay_rows[1][2], delay_rows[1][3]]]
    assert float(delay_rows[0][4]) > 0


def test_one_client_cut_off_holds_the_simple_server_not_the_threads(table):
    output, _ = table
    stages = {row[0]: row[1] for row in map(cells, output) if row[0] in ('simple', 'threads')}
    assert stages == {'simple': '0', 'threads': '1'}


def test_afterwards_the_lab_is_healed_and_serves_the_lesson(table):
    shown, _ = run(PROJECT, 'status')
    assert impairments(shown) == ['server: no impairment', 'netcat: no impairment']
    assert run(PROJECT, 'tcp', 'ARGS=--timeout 3') == (LESSON['client'], 0)
