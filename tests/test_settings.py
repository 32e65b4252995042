"""Every value a user can type is checked before it reaches a shell, a container, a helper or a path
(socketlab.settings, socketlab.wire.impair): a table of hostile values for every entry point, each
refused in one line naming it. Host-side: no Docker needed; then through make, where nothing may run
or change."""
import os
import subprocess

import pytest

from socketlab.paths import ROOT
from socketlab.settings import Settings, SettingError
from socketlab.wire.impair import Impairment, rules
from makeplay import SILENCE, person_env

HOSTILE = ['; touch /tmp/socket-lab-pwned', '`touch /tmp/socket-lab-pwned`', '$(touch /tmp/socket-lab-pwned)',
           'a\nb', 'a b', '-rf', '../tests', '010', '99999999999999999999', 'inf', 'nan', '1e10']
ENTRY_POINTS = {
    'SERVER_PORT': ['12345', '1', '65535'], 'NC_FLAVOR': ['openbsd', 'traditional', 'ncat'],
    'BASE_FROM': ['auto', 'python', 'debian'], 'PYTHON_IMAGE': ['python:3.12-slim', 'socket-lab/base'],
    'PUBLISH': ['', '0', '1'], 'CAPTURE': ['', '0', '1'], 'LAB_PROJECT': ['socket-lab', 'socket-lab-2'],
    'LAB_IMAGES': ['socket-lab'], 'RESULTS': ['results', 'results/mine'], 'COMPOSE': ['auto', 'v2', 'v1'],
    'IDLE_TIMEOUT': ['300', '0.5', '86400'], 'SERVER_IMPAIR': ['loss=30', 'rate=1mbit on=server'],
    'NETCAT_IMPAIR': ['loss=100 direction=out'], 'STAGE': ['simple', 'threads', 'thread-pool'],
    'TIMEOUT': ['1', '120', '3600'], 'SERVER': ['python', 'c'], 'AT_ONCE': ['1', '2', '8'],
    'N': ['1', '100', '1000'], 'LOOPS': ['1', '4'], 'RUNS': ['1', '100'], 'CUT_OFF_OTHERS': ['1', '20'],
    'SOAK_EXCHANGES': ['1', '10000'], 'SOAK_CONNECTIONS': ['1', '500'], 'TEST_WORKERS': ['1', '8'],
}


@pytest.mark.parametrize('name', ENTRY_POINTS)
def test_good_values_pass(name):
    for value in ENTRY_POINTS[name]:
        Settings.from_environment({name: value})


# Hostile values that are harmless, valid names for these entry points (they travel as argv or a path
# inside the project, never through a shell).
NAMES = {'010', '1e10', '99999999999999999999', 'inf', 'nan'}
VALID_ANYWAY = {'PYTHON_IMAGE': NAMES, 'LAB_PROJECT': NAMES, 'LAB_IMAGES': NAMES, 'RESULTS': NAMES}


@pytest.mark.parametrize('name, value', [(name, value) for name in ENTRY_POINTS for value in HOSTILE
                                         if value not in VALID_ANYWAY.get(name, ())])
def test_hostile_values_are_refused_in_one_line_naming_them(name, value):
    with pytest.raises(SettingError) as refused:
        Settings.from_environment({name: value})
    assert name in str(refused.value) and '\n' not in str(refused.value).replace(repr(value), '')


@pytest.mark.parametrize('value', ['0', '3601', '1.5', '010', '-1'])
def test_a_timeout_is_whole_seconds_from_1_to_an_hour(value):
    with pytest.raises(SettingError, match="^bad TIMEOUT '{}': give a whole number of seconds from 1 to 3600$".format(value)):
        Settings.from_environment({'TIMEOUT': value})


@pytest.mark.parametrize('value, message', [
    ('09999', "bad SERVER_PORT '09999': give a number from 1 to 65535"),
    ('0', "bad SERVER_PORT '0': give a number from 1 to 65535"),
    ('65536', "bad SERVER_PORT '65536': give a number from 1 to 65535"),
    ('+80', "bad SERVER_PORT '+80': give a number from 1 to 65535"),
])
def test_ports_are_decimal_without_leading_zero(value, message):
    with pytest.raises(SettingError, match='^' + message.replace('+', r'\+') + '$'):
        Settings.from_environment({'SERVER_PORT': value})


@pytest.mark.parametrize('spec, message', [
    ('loss=010', "impair: bad loss '010': give a percentage from 0 to 100"),
    ('loss=101', "impair: bad loss '101': give a percentage from 0 to 100"),
    ('delay=$(iptables${IFS}-N${IFS}X)1ms', "impair: bad delay '$(iptables${IFS}-N${IFS}X)1ms': give a number and a unit, e.g. 100ms"),
    ('delay=1ms;reboot', "impair: bad delay '1ms;reboot': give a number and a unit, e.g. 100ms"),
    ('reorder=25;x', "impair: bad reorder '25;x': give a percentage from 0 to 100"),
    ('on=server;x', "impair: bad on 'server;x': give server, netcat or both"),
    ('direction=in out', "impair: unknown setting 'out': use loss=, direction=, mode=, rate=, delay=, jitter=, reorder=, duplicate=, on="),
    ('rate=-1mbit', "impair: bad rate '-1mbit': give e.g. 1mbit or 500kbit"),
    ('delay=100ms jitter=`id`ms', "impair: bad jitter '`id`ms': give a number and a unit, e.g. 20ms"),
    ('delay=100ms jitter=-5ms', "impair: bad jitter '-5ms': give a number and a unit, e.g. 20ms"),
    ('delay=999999ms', "impair: bad delay '999999ms': give a number and a unit, e.g. 100ms"),
    ('jitter=20ms', 'impair: jitter needs a delay, e.g. delay=100ms jitter=20ms'),
    ('reorder=25', 'impair: reorder needs a delay, e.g. delay=100ms reorder=25'),
    ('delay=100ms duplicate=101', "impair: bad duplicate '101': give a percentage from 0 to 100"),
])
def test_impairment_words_are_checked(spec, message):
    with pytest.raises(SettingError) as refused:
        Impairment.parse(spec)
    assert str(refused.value) == message


def test_impairment_becomes_argv_lists_only():
    commands = rules.commands(Impairment.parse('loss=30 mode=nth rate=1mbit on=server'), 'server')
    assert all(isinstance(argv, list) and all(isinstance(word, str) for word in argv) for argv, _ in commands)
    assert [['iptables', '-A', 'SOCKET_LAB_IN', '-m', 'statistic', '--mode', 'nth', '--every', '3', '--packet', '0', '-j', 'DROP'], True] in commands
    assert rules.commands(Impairment.parse('loss=30 on=server'), 'netcat') == rules.commands(Impairment(), 'netcat')


def test_the_user_space_queue_gets_checked_numbers_as_argv():
    impairment = Impairment.parse('delay=0.5s jitter=200us reorder=25% duplicate=5 loss=10 on=server')
    assert rules.queue_arguments(impairment, 'nfqueue') == ['7', '500', '0.2', '25', '5']
    assert rules.queue_arguments(impairment, 'netem') == ['7', '0', '0', '0', '0']  # netem delays; the queue only loses
    queued = rules.commands(impairment, 'server', 'nfqueue')
    assert [['iptables', '-A', 'SOCKET_LAB_QUEUE', '-j', 'NFQUEUE', '--queue-num', '7', '--queue-bypass'], True] in queued
    assert not any(argv[0] == 'tc' and 'netem' in argv for argv, _ in queued)
    assert [['iptables', '-A', 'SOCKET_LAB_OUT', '-m', 'statistic', '--mode', 'random', '--probability', '0.10',
             '-j', 'MARK', '--set-mark', '0x50c2'], True] in queued  # lost in the queue, not by iptables' DROP


def test_args_are_words_never_a_shell():
    settings = Settings.from_environment({'ARGS': "--host 'a b' `x` $(y) ;z"})
    assert settings.args == ('--host', 'a b', '`x`', '$(y)', ';z')


@pytest.mark.parametrize('setting', [
    'SERVER_PORT=`touch /tmp/socket-lab-pwned`', 'RESULTS=`touch /tmp/socket-lab-pwned`', 'RESULTS=a;b', 'LAB_PROJECT=../tests',
    'LAB_PROJECT=Socket-Lab', 'RESULTS=/tmp', 'PUBLISH=0x1', 'LOSS=010', 'NAME=--sweep', 'COMPOSE=v3',
    'STAGE=threads;ls', 'N=`touch /tmp/socket-lab-pwned`', 'LOOPS=9', 'N=0100',
    'RUNS=0', 'CUT_OFF_OTHERS=`touch /tmp/socket-lab-pwned`', 'SERVER=java', 'SERVER=c;ls',
])
def test_through_make_nothing_runs_and_nothing_changes(setting, tmp_path):
    target = {'LOSS': 'impair', 'NAME': 'exchange', 'N': 'clients', 'LOOPS': 'clients', 'RUNS': 'loss-table',
              'CUT_OFF_OTHERS': 'loss-table'}.get(setting.split('=')[0], 'lab')
    before = subprocess.run(['git', 'status', '--porcelain'], cwd=ROOT, capture_output=True, text=True).stdout
    done = subprocess.run(['make', target, setting], cwd=ROOT, capture_output=True, text=True, timeout=SILENCE,
                          env=person_env())
    assert done.returncode == 2 and done.stdout == ''
    assert len(done.stderr.splitlines()) == 2 and done.stderr.splitlines()[1].startswith('make: ***')  # one line, then make's
    assert not os.path.exists('/tmp/socket-lab-pwned')
    after = subprocess.run(['git', 'status', '--porcelain'], cwd=ROOT, capture_output=True, text=True).stdout
    assert after == before


@pytest.mark.parametrize('name, text, most', [('RUNS', '0', 100), ('RUNS', '101', 100), ('CUT_OFF_OTHERS', '21', 20),
                                             ('CUT_OFF_OTHERS', 'x', 20)])
def test_the_loss_tables_counts_say_their_own_bounds(name, text, most):
    with pytest.raises(SettingError) as refused:
        Settings.from_environment({name: text})
    assert str(refused.value) == "bad {} '{}': give a number from 1 to {}".format(name, text, most)


def test_a_variable_one_target_reads_is_checked_for_it_and_left_alone_for_the_rest():
    """WSL sets NAME to the machine's name: make tcp runs all the same; make exchange says it is no exchange."""
    assert Settings.from_environment({'NAME': 'DESKTOP-X1', 'N': 'many'}, target='tcp').exchange == ''
    with pytest.raises(SettingError, match="^bad NAME 'DESKTOP-X1': give an exchange name"):
        Settings.from_environment({'NAME': 'DESKTOP-X1'}, target='exchange')
    settings = Settings.from_environment({'N': '200', 'LOOPS': '2'}, target='clients')
    assert (settings.clients, settings.loops) == (200, 2)
    with pytest.raises(SettingError, match="^bad N '1001': give a number from 1 to 1000$"):
        Settings.from_environment({'N': '1001'}, target='clients')


IMPAIR_WORDS = {'LOSS': '30', 'DIRECTION': 'in', 'MODE': 'random', 'RATE': '1mbit', 'DELAY': '100ms', 'JITTER': '20ms',
                'REORDER': '25', 'DUPLICATE': '5', 'ON': 'server'}


def test_make_impairs_words_are_read_by_settings_for_make_impair_only():
    """LOSS=30 DELAY=100ms ... as wire.impair's spec words, checked with the rest; a target other than
    make impair leaves them alone (a shell's own MODE or ON never stops make tcp)."""
    settings = Settings.from_environment(IMPAIR_WORDS, target='impair')
    assert settings.impairment == ('loss=30 direction=in mode=random rate=1mbit delay=100ms jitter=20ms reorder=25 '
                                   'duplicate=5 on=server')
    assert Impairment.parse(settings.impairment).loss == 30
    assert Settings.from_environment({'LOSS': 'abc', 'ON': 'my laptop'}, target='tcp').impairment == ''


@pytest.mark.parametrize('name', IMPAIR_WORDS)
@pytest.mark.parametrize('value', HOSTILE)
def test_hostile_impair_words_are_refused_in_one_line_naming_them(name, value):
    """A value with a space is refused too, not read as two words (LOSS='30 on=netcat' is not ON=netcat)."""
    with pytest.raises(SettingError) as refused:
        Settings.from_environment({**({'DELAY': '100ms'} if name == 'JITTER' else {}), name: value}, target='impair')
    said = str(refused.value)
    assert said.startswith('impair: bad {} '.format(name.lower())) and '\n' not in said.replace(repr(value), '')


def test_an_impair_value_with_a_space_is_not_read_as_two_words():
    with pytest.raises(SettingError, match=r"^impair: bad loss '30 on=netcat': one word, with no spaces$"):
        Settings.from_environment({'LOSS': '30 on=netcat'}, target='impair')


@pytest.mark.parametrize('name', ['SUBMISSION', 'SUBMISSIONS', 'ONLY', 'POINTS'])
def test_the_folders_and_lists_make_check_and_grade_read_are_refused_with_a_control_character(name):
    """What they name is checked by make check and make grade themselves, before anything runs
    (tests/test_check.py); here, read once with the rest, a newline or an escape never gets that far."""
    assert getattr(Settings.from_environment({name: 'a folder/of mine'}), name.lower()) == 'a folder/of mine'
    for value in ('a\nb', 'x\x1b[2J'):
        with pytest.raises(SettingError, match='^bad {} .*: no control characters$'.format(name)):
            Settings.from_environment({name: value})


def test_the_settings_say_which_variables_the_user_set():
    """make lab's remembered STAGE and SERVER yield to a value given now, and LAB_PROJECT given by name is
    held to this checkout's: both ask settings.given, not the environment."""
    settings = Settings.from_environment({'STAGE': 'lock', 'LAB_PROJECT': '', 'N': '5'}, target='tcp')
    assert settings.given == {'STAGE'}
    assert Settings.from_environment({'N': '5', 'LAB_PROJECT': 'mine'}, target='clients').given == {'N', 'LAB_PROJECT'}


def test_a_server_without_the_labs_table_takes_any_stage_name_and_a_bad_one_is_refused(tmp_path, monkeypatch):
    """A learner's own server as a lesson prints it has no STAGES table: make lab takes the stage's name
    (and says the server's stage is its own); a name that is no name is refused all the same."""
    from socketlab import learner
    lesson = tmp_path / 'ServerPython.py'
    lesson.write_text((ROOT / 'tests' / 'lesson' / 'ServerPython-lesson2.py').read_text())
    assert learner.server_stages(lesson) is None and learner.server_stages(tmp_path / 'none.py') is None
    monkeypatch.setattr(learner, 'SERVER_FILE', lesson)
    assert Settings.from_environment({'STAGE': 'threads'}).stage == 'threads'
    with pytest.raises(SettingError, match=r"^bad STAGE 'x;y': give a stage's name, e.g. simple$"):
        Settings.from_environment({'STAGE': 'x;y'})
    monkeypatch.setattr(learner, 'SERVER_FILE', ROOT / 'server' / 'ServerPython.py')
    with pytest.raises(SettingError, match=r"^bad STAGE 'fork': give simple, threads, "):
        Settings.from_environment({'STAGE': 'fork'})
