"""The catalogue (tests/exchanges.yaml) against its vocabulary (socketlab/catalogue.py: EXCHANGE_KEYS,
ROLE_KEYS, STEP_KEYS, PARTS), host-side: a typo in the next lesson's exchanges is one line here, not a
container that never starts. Then a table of broken exchanges, each with the line that names its fault."""
import pytest
import yaml

from socketlab import catalogue
from socketlab.paths import CATALOGUE, LESSON_FILES


def test_every_exchange_of_the_catalogue_speaks_its_vocabulary():
    exchanges = yaml.safe_load(CATALOGUE.read_text())['exchanges']
    assert catalogue.problems(exchanges, LESSON_FILES) == []


def exchange(**changed):
    """A small exchange that is right (the lesson's TCP exchange), with CHANGED put in."""
    base = {'name': 'x', 'stage': 'x', 'roles': {'server': {'kind': 'server'}, 'client': {'kind': 'client'}},
            'steps': [{'start': 'server'}, {'start': 'client'}, {'exit': {'of': 'client', 'code': 0}}],
            'expect': {'client': ["Starting client..."], 'server_count': {"Received: b'Hello, world'": 1}}}
    return {**base, **changed}


# a broken exchange -> the line that names its fault
BROKEN = [
    (exchange(), None),
    (exchange(name='Bad_Name'), 'Bad_Name: a name of its own is lower-case letters, digits and -, used once'),
    (exchange(roles={'server': {'kind': 'server'}, 'client': {'kind': 'client', 'beside': 'server'}},
              steps=[{'start': 'client'}, {'start': 'server'}, {'exit': {'of': 'client', 'code': 0}}]),
     'x: starts client before server, the host it runs on'),
    (exchange(roles={'server': {'kind': 'sever'}, 'client': {'kind': 'client'}}),
     'x: role server is of no kind the lab has (server, netcat, nc-client, client, client-loop, menu)'),
    (exchange(roles={'server': {'kind': 'server', 'flavor': 'ncat'}, 'client': {'kind': 'client'}}),
     "x: role server (server) has ['flavor']: a server takes ['args', 'entrypoint', 'env', 'file', 'server', 'stage']"),
    (exchange(roles={'server': {'kind': 'server'}, 'client': {'kind': 'client', 'beside': 'nc'}}),
     'x: role client runs beside nc, which is no role of it'),
    (exchange(roles={'server': {'kind': 'server', 'file': 'ServerPython-none.py'}, 'client': {'kind': 'client'}}),
     'x: role server runs ServerPython-none.py, which tests/lesson/ does not hold'),
    (exchange(steps=[{'start': 'server'}, {'exit': {'of': 'client', 'code': 0}}]),
     'x: its exit step names client, which is not started by then'),
    (exchange(steps=[{'start': 'server'}, {'start': 'client'}, {'wait': 'client'}]),
     "x: a step is one of start, type, exit, queued, now, signal: {'wait': 'client'}"),
    (exchange(steps=[{'start': 'server'}, {'start': 'client'}, {'exit': {'of': 'client', 'status': 0}}]),
     "x: a exit step takes ['code', 'of', 'within']: {'of': 'client', 'status': 0}"),
    (exchange(expect={'clinet': ['Starting client...']}), 'x: expects clinet of clinet, which is no role of it'),
    (exchange(expect={'server_count': ["Received: b'Hello, world'"]}), 'x: server_count is a mapping of texts to how many times'),
    (exchange(expect={'client_stderr_last': 'ClientPython: error'}), 'x: client_stderr_last is a list of lines'),
]


@pytest.mark.parametrize('broken, said', BROKEN)
def test_a_broken_exchange_is_named_in_one_line(broken, said):
    assert catalogue.problems([broken], LESSON_FILES) == ([said] if said else [])


def test_two_exchanges_of_one_name_are_one_too_many():
    assert catalogue.problems([exchange(), exchange()]) == ['x: a name of its own is lower-case letters, digits and -, used once']
