"""make check: the lessons' exchanges judge a learner's own programs.

Each stage of tests/checks.yaml is an exchange of the catalogue (tests/exchanges.yaml) played with the
learner's file in place of the lesson's own, on a network of its own, every role as hardened as the
lab's containers; the other roles are the lessons' programs. Only the stages the files are at are
played (a client at the UDP step is judged as a UDP client; a server by what its start_server() calls).

    make check [SUBMISSION=DIR] [ONLY=stage,stage] [POINTS=FILE]

DIR holds a ClientPython.py, a ServerPython.py and/or lesson 9's ServerC.c (default: client/ and server/ as saved). Prints a
table (each stage: its points and the one line that says why it failed), writes junit.xml, Gradescope's
results.json and summary.md under RESULTS/check-TIME-ID/, named on the last line. Exit 0 when every
stage played passed.
"""
import json
import re
import time
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path

from . import learner
from .paths import ROOT, result_path, write_atomic
from .settings import SettingError, inside_project

CHECKS = ROOT / 'tests' / 'checks.yaml'
FILES = {'client': 'ClientPython.py', 'server': 'ServerPython.py', 'server-c': 'ServerC.c'}  # server-c: lesson 9's
CLIENT_KINDS = ('client', 'client-loop', 'menu')
PASSED = 'as the lesson shows'  # a passed stage's line, and the start of a longer one (_passed)


@dataclass
class Row:
    """One stage's verdict."""
    stage: str
    points: int
    passed: bool = False
    played: bool = True
    why: str = ''
    seconds: float = 0.0

    @property
    def score(self):
        return self.points if self.passed else 0


def load_checks(path=CHECKS):
    """The stages; from their YAML, or from the JSON made of it where there is no PyYAML (Gradescope)."""
    if not path.exists() and path.with_suffix('.json').exists():
        return json.loads(path.with_suffix('.json').read_text())['checks']
    import yaml
    return yaml.safe_load(path.read_text())['checks']


def submission(text):
    """The learner's files: {'client', 'server', 'server-c': Path or None}, from a folder (SUBMISSION)
    or the project's own client/ and server/. Only regular files: a link could show a file of the host's."""
    if text:
        if any(ord(c) < 32 for c in text):
            raise SettingError('bad SUBMISSION {!r}: no control characters'.format(text))
        folder = Path(text).expanduser().resolve()
        if not folder.is_dir():
            raise SettingError('bad SUBMISSION {!r}: give a folder holding ClientPython.py, ServerPython.py or ServerC.c'.format(text))
        paths = {kind: folder / name for kind, name in FILES.items()}
    else:
        paths = {'client': learner.CLIENT_FILE, 'server': learner.SERVER_FILE, 'server-c': learner.SERVER_C_FILE}
    found = {}
    for kind, path in paths.items():
        if path.is_symlink() or (path.exists() and not path.is_file()):
            raise SettingError('bad SUBMISSION: {} is not a plain file (a link or a folder): nothing was run'.format(path))
        found[kind] = path if path.is_file() else None
    return found


def points(text, checks):
    """The stages' points: the project's, or an instructor's file's (POINTS, inside the project)."""
    table = {check['stage']: int(check['points']) for check in checks}
    if text:
        import yaml
        path = inside_project('POINTS', text)
        try:
            given = yaml.safe_load(path.read_text())
        except (OSError, yaml.YAMLError) as error:
            raise SettingError('bad POINTS {!r}: {}'.format(text, error)) from None
        if not isinstance(given, dict) or not set(given) <= set(table) or not all(
                isinstance(v, int) and 0 <= v <= 1000 for v in given.values()):
            raise SettingError('bad POINTS {!r}: give a YAML mapping of stages ({}) to points from 0 to 1000'.format(
                text, ', '.join(table)))
        table.update(given)
    return table


def only(text, checks):
    names = [check['stage'] for check in checks]
    if not text:
        return names
    asked = text.split(',')
    unknown = [name for name in asked if name not in names]
    if unknown:
        raise SettingError('bad ONLY {!r}: give stages of tests/checks.yaml: {}'.format(text, ', '.join(names)))
    return asked


def applies(check, files):
    """Whether the learner's files are at this stage's step: (True, '') or (False, why not)."""
    path = files[check['judges']]
    if path is None:
        return False, 'no {} in the submission'.format(FILES[check['judges']])
    when = check.get('when') or {}
    if check['judges'] == 'client' and when:  # its step: udp, tls, checks_certificate, menu, as learner.ClientFile reads them
        facts = learner.client_file(path)
        if facts.lab_flags:
            return not (when.get('udp') or when.get('tls') or when.get('menu')), 'the lab\'s own client runs the TCP stages'
        if facts.readable and any(getattr(facts, key) != wanted for key, wanted in when.items()):
            return False, 'the client is at its {}'.format(facts.step)
    if check['judges'] == 'server' and 'stage' in when:
        stage = 'simple' if learner.server_has_stages(path) else learner.server_stage(path)
        if stage is not None and stage != when['stage']:
            return False, 'the server is at the {} stage'.format(stage)
    return True, ''


def judged(exchange, check, files):
    """The exchange with the learner's file in place of the lesson's, for the roles of the kind judged."""
    exchange = json.loads(json.dumps(exchange))  # a copy: the catalogue stays as it is
    path = files[check['judges']]
    facts = learner.client_file(path) if check['judges'] == 'client' else None
    for name, role in exchange['roles'].items():
        if 'file' not in role:
            continue
        if check['judges'] in ('server', 'server-c') and role['kind'] == 'server':
            role['file'] = str(path)
        if check['judges'] == 'client' and role['kind'] in CLIENT_KINDS:
            role['file'] = str(path)
            peer = exchange['roles'][role['beside']]['kind'] if 'beside' in role else 'server'
            if not facts.on_loopback:  # it talks to the service's name: a host of its own on the network
                role.pop('beside', None)
                # a client on a host of its own sees nc at nc's own address, not 127.0.0.1
                exchange['expect'] = {key: [line.replace("('127.0.0.1', 12345)", "('{netcat_ip}', 12345)")
                                            for line in lines] if isinstance(lines, list) else lines
                                      for key, lines in exchange['expect'].items()}
            if facts.lab_flags:  # the lab's own client is told where its peer is
                role['env'] = {**role.get('env', {}), 'SERVER_NAME': 'netcat' if peer == 'netcat' else 'server'}
    return exchange


def _differs(key, actual, expected):
    """The one line a learner needs: where their program's output leaves the lesson's."""
    role = key.split('_')[0]
    if isinstance(expected, dict):
        text, times = next((text, times) for text, times in expected.items() if actual.get(text) != times)
        return '{} printed {!r} {} times where the lesson prints it {} times'.format(role, text, actual.get(text), times)
    for index, line in enumerate(expected):
        if index >= len(actual):
            return '{} printed nothing more where the lesson prints: {}'.format(role, line)
        if actual[index] != line:
            return '{} printed: {}  where the lesson prints: {}'.format(role, actual[index], line)
    return '{} printed more than the lesson: {}'.format(role, actual[len(expected)])


def _why(error, lab):
    """A failed step in one line, with the last line each program wrote to stderr (its traceback's end)."""
    from .catalogue import Differs
    if isinstance(error, Differs):
        return _differs(error.key, error.actual, error.expected)
    said = str(error).splitlines()[0] if str(error) else type(error).__name__
    said = re.sub(r": stdout ['\"].*", '', said)[:300]  # its output left out (either quotes): its errors' last lines follow
    ends = []
    for name, role in lab.roles.items():
        try:
            errors = [line for line in role.stderr().splitlines() if line.strip()]
        except Exception:  # noqa: BLE001 - a role removed meanwhile has no more to say
            errors = []
        if errors:
            ends.append('{}: {}'.format(name, errors[-1][:200]))
    return '; '.join([said, *ends])


def play(exchange, target, run, backend=None, judges='server'):
    """(passed, why) for one judged exchange, on a network of its own (BACKEND: the catalogue's lab
    class, socketlab.exchanges.Lab by default, socketlab.onehost.HostLab where there is no Docker).
    The exchange is recorded: a failure's line ends with what the wire showed of the JUDGES program."""
    from . import catalogue, health
    if backend is None:
        from .exchanges import Lab as backend
    lab = backend(target, run, wire=True)
    try:
        try:
            catalogue.play(exchange, lab)
        except (AssertionError, RuntimeError, TimeoutError, OSError, health.StoppedError, _docker_errors()) as error:
            return False, _with_wire(_why(error, lab), lab, _side(judges))  # a step the learner's program never let happen
        for key, (actual, expected) in catalogue.transcripts(exchange, lab).items():
            if actual != expected:
                return False, _with_wire(_differs(key, actual, expected), lab, _side(judges))
        return True, _passed(exchange, judges)
    finally:
        lab.close()


def _side(judges):
    """Which side of the wire the judged file is (lesson 9's C server is a server)."""
    return 'server' if judges == 'server-c' else judges


def _passed(exchange, judges):
    """A passed stage's line; where the lesson's two terminals were one machine (a role beside another:
    the programs connect to 'localhost'), it says the check ran them so."""
    beside = [role['beside'] for role in exchange['roles'].values() if 'beside' in role]
    if not beside:
        return PASSED
    if judges == 'client':
        host = "nc's" if exchange['roles'][beside[0]]['kind'] == 'netcat' else "the server's"
        return PASSED + ", run on {} host: it connects to 'localhost', as in the lesson's terminals".format(host)
    return PASSED + ", its clients on its host: they connect to 'localhost', as in the lesson's terminals"


def _with_wire(why, lab, judges):
    """WHY, and what the capture showed of the judged program where it differs from the lesson's on the wire."""
    from .wire import verdict
    packets = lab.packets()
    wire = verdict.said(packets, judges) if packets is not None else ''
    return '{}; {}'.format(why, wire) if wire else why


def _docker_errors():
    """The docker SDK's error class, where the SDK is installed (not on Gradescope)."""
    try:
        from .engine import errors
        return errors().DockerException
    except ImportError:
        return RuntimeError


def junit(rows):
    suite = ElementTree.Element('testsuite', name='socket-lab check', tests=str(len(rows)),
                                failures=str(sum(r.played and not r.passed for r in rows)),
                                skipped=str(sum(not r.played for r in rows)), time='{:.3f}'.format(sum(r.seconds for r in rows)))
    for row in rows:
        case = ElementTree.SubElement(suite, 'testcase', classname='socket-lab.check', name=row.stage,
                                      time='{:.3f}'.format(row.seconds))
        if not row.played:
            ElementTree.SubElement(case, 'skipped', message=row.why)
        elif not row.passed:
            ElementTree.SubElement(case, 'failure', message=row.why).text = row.why
    root = ElementTree.Element('testsuites')
    root.append(suite)
    ElementTree.indent(root)
    return ElementTree.tostring(root, encoding='unicode', xml_declaration=True) + '\n'


def gradescope(rows):
    """Gradescope's results.json: the stages played, each with its score (stages the files are not at are left out)."""
    tests = [{'name': row.stage, 'score': row.score, 'max_score': row.points, 'status': 'passed' if row.passed else 'failed',
              'output': row.why, 'visibility': 'visible'} for row in rows if row.played]
    result = {'score': sum(t['score'] for t in tests), 'tests': tests}
    if not tests:
        result['output'] = 'Nothing to judge: no ClientPython.py, ServerPython.py or ServerC.c at a stage of the lessons.'
    return json.dumps(result, indent=2) + '\n'


def summary(rows):
    lines = ['| stage | points | verdict |', '|---|---|---|']
    for row in rows:
        verdict = ('passed' if row.passed else 'failed: ' + row.why) if row.played else 'not played: ' + row.why
        lines.append('| {} | {} | {} |'.format(row.stage, '{}/{}'.format(row.score, row.points) if row.played else '-',
                                               verdict.replace('|', '\\|')))
    lines += ['', 'Score: {} of {}.'.format(*score(rows))]
    return '\n'.join(lines) + '\n'


def judge(target, files, checks, asked, table, catalogue, run, shown=print, backend=None):
    """The rows of one learner's files: every asked stage, played where the files are at it."""
    rows = []
    for check in checks:
        if check['stage'] not in asked:
            continue
        row = Row(check['stage'], table[check['stage']])
        row.played, row.why = applies(check, files)
        if row.played:
            start = time.monotonic()
            row.passed, row.why = play(judged(catalogue[check['exchange']], check, files), target, run, backend,
                                       check['judges'])
            row.seconds = time.monotonic() - start
        rows.append(row)
        if shown:
            shown('{:<28} {:>5}  {}'.format(row.stage, '{}/{}'.format(row.score, row.points) if row.played else '-',
                                            ('passed' + row.why.removeprefix(PASSED) if row.passed
                                             else 'FAILED: ' + row.why) if row.played
                                            else 'not played: ' + row.why))
    return rows


def write_results(folder, rows):
    write_atomic(folder / 'junit.xml', junit(rows))
    write_atomic(folder / 'results.json', gradescope(rows))
    write_atomic(folder / 'summary.md', summary(rows))


def score(rows):
    """(points got, points there were) over the stages played."""
    played = [row for row in rows if row.played]
    return sum(r.score for r in played), sum(r.points for r in played)


def main(target):
    settings = target.settings
    from . import images, sweep
    from .catalogue import load_catalogue
    started = time.monotonic()  # said on the last line (measured, never asserted)
    checks = load_checks()
    files = submission(settings.submission)
    table, asked = points(settings.points, checks), only(settings.only, checks)
    images.ensure(settings)
    run = sweep.child_run('check')
    try:
        rows = judge(target, files, checks, asked, table, load_catalogue(), run,
                     shown=lambda line: print(line, flush=True))
    finally:
        sweep.sweep(run)
    folder = result_path(settings.results, 'check')
    write_results(folder, rows)
    got, most = score(rows)
    print('Score: {} of {}, in {:.1f} s. Results in {}: junit.xml, results.json (Gradescope), summary.md'.format(
        got, most, time.monotonic() - started, folder.relative_to(ROOT)))
    played = [row for row in rows if row.played]
    return 0 if played and all(row.passed for row in played) else 1
