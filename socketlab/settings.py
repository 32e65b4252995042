"""Every value a user can type (make variables, the environment), checked against what it may be
before it reaches compose, a container, a helper or a path. A bad one raises SettingError, whose
text is the one line the user sees; nothing has been changed by then.

Values travel on as argv lists and as compose's environment, never spliced into a shell string.
"""
import argparse
import os
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from .errors import SettingError  # noqa: F401 - a value the lab refuses (socketlab.errors: the one way to fail)
from .paths import ROOT


def port(name, text):
    """A TCP/UDP port: decimal 1-65535, no sign, no leading zero (010 is not read as 8 or 10)."""
    if not re.fullmatch(r'[1-9][0-9]{0,4}', text) or int(text) > 65535:
        raise SettingError('bad {} {!r}: give a number from 1 to 65535'.format(name, text))
    return int(text)


def count(name, text, most):
    """How many (clients, exchanges, runs): a number from 1 to MOST."""
    try:
        number = port(name, text)
    except SettingError:
        number = 0
    if not 1 <= number <= most:  # port()'s own line would say up to 65535
        raise SettingError('bad {} {!r}: give a number from 1 to {}'.format(name, text, most))
    return number


def exchange_name(name, text):
    """An exchange of tests/exchanges.yaml, by its name's spelling (make exchange lists them)."""
    if not re.fullmatch(r'[a-z0-9][a-z0-9-]*', text):
        raise SettingError('bad {} {!r}: give an exchange name (make exchange lists them)'.format(name, text))
    return text


def words(name, text):
    """Space-separated words (LOSSES='0 10 30'); each is checked where it is read."""
    return tuple(arguments(name, text))


def choice(name, text, allowed):
    if text not in allowed:
        raise SettingError('bad {} {!r}: give {}'.format(name, text, _or(allowed)))
    return text


def switch(name, text):
    """An on/off variable: empty or 0 is off, 1 is on; nothing else."""
    return choice(name, text, ('', '0', '1')) == '1'


def project(name, text):
    """A compose project name, as compose itself allows it (lower case, digits, - and _), so that no
    two spellings name the same lab and no value becomes a path outside .lab/."""
    if not re.fullmatch(r'[a-z0-9][a-z0-9_-]{0,62}', text):
        raise SettingError('bad {} {!r}: give lower-case letters, digits, - and _ (e.g. socket-lab-2)'.format(name, text))
    return text


def image_name(name, text):
    """An image reference (repository[:tag]), as docker spells it."""
    if not re.fullmatch(r'[a-z0-9]+(?:[._/-][a-z0-9]+)*(?::[A-Za-z0-9_][A-Za-z0-9._-]{0,127})?', text):
        raise SettingError('bad {} {!r}: give an image name like python:3.12-slim'.format(name, text))
    return text


def seconds(name, text, most=86400):
    """A positive number of seconds, at most `most` (inf, nan and 1e10 are refused)."""
    if not re.fullmatch(r'(?:0|[1-9][0-9]{0,5})(?:\.[0-9]{1,3})?', text) or not 0 < float(text) <= most:
        raise SettingError('bad {} {!r}: give a number of seconds from 0.001 to {}'.format(name, text, most))
    return text


def inside_project(name, text):
    """A folder inside the project (results/ by default): never outside it, plain characters only."""
    if not re.fullmatch(r'[A-Za-z0-9_.][A-Za-z0-9_./-]*', text) or '..' in text.split('/'):
        raise SettingError('bad {} {!r}: give a folder inside the project, e.g. results'.format(name, text))
    path = (ROOT / text).resolve()
    if path == ROOT or ROOT not in path.parents:
        raise SettingError('bad {} {!r}: give a folder inside the project, e.g. results'.format(name, text))
    return path


def whole_seconds(name, text, most=3600):
    """A whole number of seconds from 1 to `most` (an alarm's bound)."""
    if not re.fullmatch(r'[1-9][0-9]{0,3}', text) or int(text) > most:
        raise SettingError('bad {} {!r}: give a whole number of seconds from 1 to {}'.format(name, text, most))
    return int(text)


def arguments(name, text):
    """More flags for a program (ARGS): split as a shell would split words, never run by one."""
    try:
        words = shlex.split(text)
    except ValueError as error:
        raise SettingError('bad {} {!r}: {}'.format(name, text, error)) from None
    for word in words:
        if any(ord(c) < 32 for c in word):
            raise SettingError('bad {} {!r}: no control characters'.format(name, text))
    return tuple(words)


def plain_text(name, text, most=4096):
    """A folder or a list a target reads itself (SUBMISSION=, ONLY=, POINTS=): no control characters (the
    target checks what it names, before anything runs)."""
    if len(text) > most or any(ord(c) < 32 for c in text):
        raise SettingError('bad {} {!r}: no control characters'.format(name, text[:40]))
    return text


def filter_text(name, text, most=200):
    """Lesson 7's filter (QUERY): printable text of at most `most` characters, passed as one argument."""
    if len(text) > most or not text.isprintable():
        raise SettingError('bad {} {!r}: give a filter of printable text, at most {} characters, e.g. '
                           "QUERY='username=Alice'".format(name, text[:40], most))
    return text


class OneLineParser(argparse.ArgumentParser):
    """argparse for the lab's own flags (BENCH_ARGS, SPEED_ARGS): a bad one is a SettingError, one line."""

    def error(self, message):
        raise SettingError('{}: {}'.format(self.prog, message))


def stage(name, text):
    """A stage of server/ServerPython.py's own table, the one list of them (socketlab.learner reads it from
    the file's source); with a server that has none, any stage's name (make lab says that the server's
    stage is its own)."""
    from .learner import server_stages
    stages = server_stages()
    if stages is None:
        if not re.fullmatch(r'[a-z][a-z-]{0,39}', text):
            raise SettingError("bad {} {!r}: give a stage's name, e.g. simple".format(name, text))
        return text
    return choice(name, text, stages)


# The servers make lab SERVER= runs: name -> (its image's program, what its container runs, its file in server/).
#   python:  the lessons' server (lessons 2-7), server/ServerPython.py
#   c:       lesson 9's, server/ServerC.c, compiled as the container starts (server-c/run.sh)
#   records: the lab's reference server for lesson 7's upload/query protocol, which no lesson writes
SERVER_PROGRAMS = {
    'python': ('server', ('python3', '/app/ServerPython.py'), 'ServerPython.py'),
    'c': ('server-c', ('sh', '/lab/run.sh'), 'ServerC.c'),
    'records': ('server', ('python3', '/app/RecordServer.py'), 'RecordServer.py'),
}
SERVERS = tuple(SERVER_PROGRAMS)
# make lab SERVER=c STRICT=1: the one flag lesson 9's build may get (server-c/run.sh's SERVER_CFLAGS)
STRICT_CFLAGS = '-Werror=implicit-function-declaration'


def _or(allowed):
    shown = [repr(a) if a == '' else a for a in allowed]
    return ', '.join(shown[:-1]) + ' or ' + shown[-1]


# The variables only some targets read (make TARGET's names): checked for those, left alone for the rest.
ONLY_FOR = {'N': ('clients',), 'LOOPS': ('clients',), 'SOAK_EXCHANGES': ('soak',), 'SOAK_CONNECTIONS': ('soak',),
            'RUNS': ('loss-table',), 'CUT_OFF_OTHERS': ('loss-table',), 'LOSSES': ('loss-table',),
            'DELAYS': ('loss-table',), 'NAME': ('exchange',), 'TEST_WORKERS': ('test',), 'PYTEST_ARGS': ('test',),
            'BENCH_ARGS': ('bench',), 'SPEED_ARGS': ('speed',), 'QUERY': ('query',),
            'SUBMISSION': ('check',), 'ONLY': ('check', 'grade'), 'POINTS': ('check', 'grade'), 'SUBMISSIONS': ('grade',),
            'AT_ONCE': ('grade',)}
# make impair's words (LOSS=30 DIRECTION=in ...): one impairment, read by that target only.
IMPAIR_WORDS = ('LOSS', 'DIRECTION', 'MODE', 'RATE', 'DELAY', 'JITTER', 'REORDER', 'DUPLICATE', 'ON')
ONLY_FOR.update({name: ('impair',) for name in IMPAIR_WORDS})


def one_word(name, text):
    """A make impair value: one word (a space in it would make it two of wire.impair's settings)."""
    if text.split() != [text]:
        raise SettingError('impair: bad {} {!r}: one word, with no spaces'.format(name.lower(), text))
    return text


def impair_words(values):
    """make impair's VALUES ({LOSS: '30', ON: 'server', unset: None}) as wire.impair's spec words
    ('loss=30 on=server'), checked there."""
    words = ' '.join('{}={}'.format(name.lower(), value) for name, value in values.items() if value is not None)
    if words:
        from .wire.impair import Impairment
        Impairment.parse(words)
    return words


@dataclass(frozen=True)
class Settings:
    """The lab's settings, as make passes them (its variables reach us as environment variables)."""
    server_port: int = 12345
    nc_flavor: str = 'openbsd'
    base_from: str = 'auto'
    python_image: str = 'python:3.12-slim'
    publish: bool = False
    project: str = 'socket-lab'
    images: str = 'socket-lab'
    capture: bool = False
    results: Path = ROOT / 'results'
    args: tuple = ()
    compose: str = 'auto'
    idle_timeout: str = '300'
    server_impair: str = ''
    netcat_impair: str = ''
    stage: str = 'simple'
    server: str = 'python'  # which server: python (lessons 2-7), c (lesson 9), records (lesson 7's protocol)
    timeout: int = 120  # seconds a learner's own client may run (the lesson's code has no timeout)
    query: str = 'username=Alice'  # make query's filter (lesson 7), the lesson's own example
    strict: bool = False  # lesson 9: gcc -Werror=implicit-function-declaration (STRICT=1), as clang and gcc 14 stop
    impairment: str = ''  # make impair LOSS= ... ON=: its words (wire.impair's spec), checked
    # What one target reads (each checked here with the rest, before anything runs):
    clients: int = 100         # make clients N=
    loops: int = 1             # make clients LOOPS=
    soak_exchanges: int = 1000  # make soak
    soak_connections: int = 200
    loss_runs: int = 10        # make loss-table RUNS=, CUT_OFF_OTHERS=, LOSSES=, DELAYS=
    cut_off_others: int = 5
    losses: tuple = ('0', '10', '30', '50')
    delays: tuple = ('50ms', '100ms')
    exchange: str = ''         # make exchange NAME=
    test_workers: int = 4      # make test TEST_WORKERS=, PYTEST_ARGS=
    pytest_args: tuple = ()
    bench_args: tuple = ()     # make bench BENCH_ARGS=, make speed SPEED_ARGS=
    speed_args: tuple = ()
    submission: str = ''       # make check SUBMISSION= (a folder; checked by socketlab.check), ONLY=, POINTS=
    only: str = ''
    points: str = ''
    submissions: str = ''      # make grade SUBMISSIONS= (a class's folder), AT_ONCE=
    at_once: int = 2
    given: frozenset = frozenset()  # the variables the user set (make lab's remembered STAGE and SERVER yield to them)

    @classmethod
    def from_environment(cls, env=None, target=None):
        """The settings from ENV (the process's environment). A variable only one target reads (ONLY_FOR)
        is read for that TARGET (or for every one, with no target): a NAME or an N the user's shell sets
        for its own ends (WSL sets NAME) never stops make tcp."""
        env = os.environ if env is None else env
        given = set()

        def get(name, check, *more):
            if target is not None and target not in ONLY_FOR.get(name, (target,)):
                return None
            text = env.get(name, '')
            if text != '':
                given.add(name)
            return check(name, text, *more) if text != '' or check in (switch, arguments) else None

        values = dict(
            server_port=get('SERVER_PORT', port),
            nc_flavor=get('NC_FLAVOR', choice, ('openbsd', 'traditional', 'ncat')),
            base_from=get('BASE_FROM', choice, ('auto', 'python', 'debian')),
            python_image=get('PYTHON_IMAGE', image_name),
            publish=get('PUBLISH', switch),
            project=get('LAB_PROJECT', project),
            images=get('LAB_IMAGES', project),
            capture=get('CAPTURE', switch),
            results=get('RESULTS', inside_project),
            args=get('ARGS', arguments),
            compose=get('COMPOSE', choice, ('auto', 'v2', 'v1')),
            idle_timeout=get('IDLE_TIMEOUT', seconds),
            stage=get('STAGE', stage),
            server=get('SERVER', choice, SERVERS),
            timeout=get('TIMEOUT', whole_seconds),
            query=get('QUERY', filter_text),
            strict=get('STRICT', switch),
            clients=get('N', count, 1000), loops=get('LOOPS', count, 4),
            soak_exchanges=get('SOAK_EXCHANGES', count, 10000), soak_connections=get('SOAK_CONNECTIONS', count, 500),
            loss_runs=get('RUNS', count, 100), cut_off_others=get('CUT_OFF_OTHERS', count, 20),
            losses=get('LOSSES', words), delays=get('DELAYS', words),
            exchange=get('NAME', exchange_name), test_workers=get('TEST_WORKERS', port),
            pytest_args=get('PYTEST_ARGS', arguments), bench_args=get('BENCH_ARGS', arguments),
            speed_args=get('SPEED_ARGS', arguments),
            submission=get('SUBMISSION', plain_text), only=get('ONLY', plain_text), points=get('POINTS', plain_text),
            submissions=get('SUBMISSIONS', plain_text), at_once=get('AT_ONCE', count, 8),
            impairment=impair_words({name: get(name, one_word) for name in IMPAIR_WORDS}),
        )
        # Declared impairments are checked where they are read (wire.impair), before anything applies them.
        for name in ('SERVER_IMPAIR', 'NETCAT_IMPAIR'):
            if env.get(name):
                from .wire.impair import Impairment
                Impairment.parse(env[name], setting=name)
                values[name.lower()] = env[name]
        return cls(**{k: v for k, v in values.items() if v is not None}, given=frozenset(given))

    def compose_environment(self, **more):
        """What compose.yaml interpolates, from checked values only: the user's raw environment never
        reaches compose for these names."""
        from .paths import state_dir
        from .tls import server_folder
        return {
            'SERVER_PORT': str(self.server_port), 'NC_FLAVOR': self.nc_flavor, 'NC_MODE': 'udp',
            'IDLE_TIMEOUT': self.idle_timeout, 'SERVER_IMPAIR': self.server_impair,
            'NETCAT_IMPAIR': self.netcat_impair, 'LAB_IMAGES': self.images, 'SERVER_STAGE': self.stage,
            # lesson 7's certificates (socketlab.tls): the lab's folder, the pair this stage's server opens,
            # and who makes them (the user who runs make, so the files are theirs)
            'LAB_TLS': str(state_dir(self.project) / 'tls'), 'SERVER_TLS_DIR': server_folder(self.stage),
            'LAB_USER': '{}:{}'.format(os.getuid(), os.getgid()),
            'SERVER_CFLAGS': STRICT_CFLAGS if self.strict else '',
            'SERVER_IMAGE': self.server_program, 'SERVER_RUNNER': self.server_entrypoint[0],
            'SERVER_MAIN': self.server_entrypoint[1], **more,
        }

    @property
    def server_program(self):
        """The server's image program (server/, or lesson 9's server-c/), as images and compose.yaml name it."""
        return SERVER_PROGRAMS[self.server][0]

    @property
    def server_entrypoint(self):
        """What the server's container runs (compose.yaml's SERVER_RUNNER and SERVER_MAIN)."""
        return SERVER_PROGRAMS[self.server][1]

    def image(self, program):
        return '{}/{}'.format(self.images, program)
