"""The lessons' exchanges as data (tests/exchanges.yaml), and how one is played and judged on a
backend: socketlab.exchanges plays them on containers (a bridge network of their own), socketlab.onehost
as processes on one host's loopback (where there is no Docker: Gradescope). A backend's lab is made as
Backend(target, run, wire) (socketlab.target; the loopback one needs none) and gives:

    lab.start(name, spec) -> role      lab.roles {name: role}     lab.values() {ROLE_ip: address}
    lab.queued(at, source_role, bytes) -> bool                     lab.close()
    role.terminal (wait_for(text), type(text), text) or None; role.stdout(), role.stderr(),
    role.wait_exit(timeout) -> status (AssertionError if still running), role.signal(name)
"""
import json
import re

from . import health
from .paths import CATALOGUE

PORT_PLACEHOLDER = '{ephemeral_port}'
# The numbers that vary and are matched as any number: a client's port, and the CPython source line an
# ssl error names ("(_ssl.c:1006)": the lesson's differs from this Python's, as each Python's does).
NUMBERS = (PORT_PLACEHOLDER, '{source_line}')
_NUMBER = re.compile('|'.join(re.escape(n) for n in NUMBERS))
# What an expectation's key may end in, after the role's name: which stream, and which part of it.
#   ROLE: [lines]          all of its standard output, line by line
#   ROLE_stderr: [lines]   all of its standard error
#   ..._first / ..._last: [lines]   its first / last lines only
#   ..._count: {text: n}   how many times each of these texts was printed (threads' lines may be
#                          spliced into each other, as the lesson warns: the text is counted, not lines)
#   ROLE_varies: pattern   reported (the last line matching it), never asserted: what the lesson says varies
PARTS = ('_first', '_last', '_count', '_varies')


# The catalogue's vocabulary, in one place (tests/exchanges.yaml's header says it in words; problems()
# checks every exchange against it, tests/test_catalogue.py runs that on the catalogue, host-side).
EXCHANGE_KEYS = {'name', 'stage', 'roles', 'steps', 'expect'}
ROLE_KEYS = {  # kind -> the keys a role of that kind may have (kind itself always)
    'server': {'args', 'env', 'stage', 'file', 'server', 'entrypoint'},
    'netcat': {'flavor', 'mode', 'env'},
    'nc-client': {'beside', 'port', 'env'},
    'client': {'args', 'env', 'file', 'beside', 'entrypoint', 'tls'},
    'client-loop': {'count', 'file', 'beside', 'env'},
    'menu': {'file', 'beside', 'env'},
}
STEP_KEYS = {  # a step's one key -> the keys of its value (None: the value is a role's name; 'roles': {ROLE: [lines]})
    'start': None, 'type': {'into', 'after', 'since_typed', 'text'}, 'exit': {'of', 'code', 'within'},
    'queued': {'at', 'from', 'bytes'}, 'now': 'roles', 'signal': {'to', 'name'},
}


def problems(exchanges, lesson_files=None):
    """What in EXCHANGES (the catalogue's list) breaks its vocabulary, one line each; [] when nothing does."""
    found, names = [], set()
    for number, exchange in enumerate(exchanges):
        name = exchange.get('name', '#{}'.format(number))
        said = lambda text: found.append('{}: {}'.format(name, text))  # noqa: E731
        if not re.fullmatch(r'[a-z0-9][a-z0-9-]*', str(name)) or name in names:
            said('a name of its own is lower-case letters, digits and -, used once')
        names.add(name)
        if set(exchange) != EXCHANGE_KEYS:
            said('has {} where an exchange has {}'.format(sorted(set(exchange)), sorted(EXCHANGE_KEYS)))
            continue
        roles = exchange['roles']
        for role, spec in roles.items():
            kind = spec.get('kind')
            if kind not in ROLE_KEYS:
                said('role {} is of no kind the lab has ({})'.format(role, ', '.join(ROLE_KEYS)))
                continue
            if set(spec) - {'kind'} - ROLE_KEYS[kind]:
                said('role {} ({}) has {}: a {} takes {}'.format(role, kind, sorted(set(spec) - {'kind'} - ROLE_KEYS[kind]),
                                                                kind, sorted(ROLE_KEYS[kind])))
            if 'beside' in spec and spec['beside'] not in roles:
                said('role {} runs beside {}, which is no role of it'.format(role, spec['beside']))
            if 'file' in spec and lesson_files is not None and not (lesson_files / spec['file']).is_file():
                said('role {} runs {}, which tests/lesson/ does not hold'.format(role, spec['file']))
        started = set()
        for step in exchange['steps']:
            if len(step) != 1 or next(iter(step)) not in STEP_KEYS:
                said('a step is one of {}: {}'.format(', '.join(STEP_KEYS), step))
                continue
            (key, value), = step.items()
            wanted = STEP_KEYS[key]
            if wanted is None:
                if value not in roles:
                    said('starts {}, which is no role of it'.format(value))
                elif value in started:
                    said('starts {} twice'.format(value))
                elif roles[value].get('beside') in set(roles) - started:
                    said('starts {} before {}, the host it runs on'.format(value, roles[value]['beside']))
                started.add(value)
                continue
            if wanted == 'roles':
                named = set(value)
            elif not isinstance(value, dict) or set(value) - wanted:
                said('a {} step takes {}: {}'.format(key, sorted(wanted), value))
                continue
            else:
                named = {value[k] for k in ('into', 'of', 'at', 'from', 'to') if k in value}
            for role in sorted(named - started):
                said('its {} step names {}, which is {}'.format(key, role, 'not started by then' if role in roles else 'no role of it'))
        for key, expected in exchange['expect'].items():
            part = next((p for p in PARTS if key.endswith(p)), '')
            stream = key[:len(key) - len(part)] if part else key
            role = stream.removesuffix('_stderr')
            if role not in roles:
                said('expects {} of {}, which is no role of it'.format(key, role))
            elif part == '_count' and not (isinstance(expected, dict) and all(isinstance(n, int) for n in expected.values())):
                said('{} is a mapping of texts to how many times'.format(key))
            elif part == '_varies' and not isinstance(expected, str):
                said('{} is one pattern'.format(key))
            elif part not in ('_count', '_varies') and not (isinstance(expected, list) and all(isinstance(line, str) for line in flat(expected))):
                said('{} is a list of lines'.format(key))
    return found


SHOWN = 1 << 20  # characters of a terminal kept: far past any lesson's exchange


class Screen:
    """What a person sees in a terminal and types into it; a backend's terminal gives _chunk(timeout)
    (what came within TIMEOUT seconds: '' for nothing, None once it closed), type(text) and close()."""

    def __init__(self):
        self._seen = ''
        self.closed = False

    def _read(self, timeout):
        chunk = self._chunk(timeout)
        if chunk is None:
            self.closed = True
            return False
        # at most SHOWN characters are kept: a program that prints without end cannot fill this host's memory
        self._seen = (self._seen + chunk)[:SHOWN]
        return bool(chunk)

    @property
    def text(self):
        """All it has shown so far (a terminal's \\r\\n as \\n), read without waiting."""
        while not self.closed and self._read(0):
            pass
        return self._seen.replace('\r\n', '\n')

    @property
    def shown(self):
        """How much it has shown so far: since=shown names what it shows from now on."""
        self.text
        return len(self._seen)

    def wait_for(self, text, since=0):
        """Until the terminal shows `text` (bounded), in what it showed from SINCE on (a mark of shown):
        a prompt a menu shows again and again is waited for anew; what it shows is in the error otherwise."""
        def showing():
            return text in self._seen[since:].replace('\r\n', '\n')

        def shown():
            self.text
            if showing():
                return True
            if self.closed:  # it never will: said at once, not after the wait's bound
                raise health.Never('the terminal closed before showing {!r}; it shows {!r}'.format(text, self.text))
            self._read(health.POLL)
            assert showing(), '{!r} did not show; the terminal shows {!r}'.format(text, self.text)
            return True
        health.eventually(shown, what='{!r} did not show'.format(text))


def flat(lines):
    """A list of lines, where an item may be a list of lines itself (a block the catalogue names once
    with a YAML anchor, as the menu lessons 6-7 print again and again), read as those lines in place."""
    return [line for item in lines for line in (flat(item) if isinstance(item, list) else [item])]


def _flattened(exchange):
    exchange['expect'] = {key: flat(value) if isinstance(value, list) else value for key, value in exchange['expect'].items()}
    for step in exchange['steps']:
        if 'now' in step:
            step['now'] = {key: flat(value) for key, value in step['now'].items()}
    return exchange


def load_catalogue(path=CATALOGUE):
    """The catalogue by exchange name; from its YAML, or from the JSON made of it (JSON is YAML too: a
    place with no PyYAML, as Gradescope's image, reads that)."""
    if not path.exists() and path.with_suffix('.json').exists():
        path = path.with_suffix('.json')
    if path.suffix == '.json':
        return {e['name']: _flattened(e) for e in json.loads(path.read_text())['exchanges']}
    import yaml
    return {e['name']: _flattened(e) for e in yaml.safe_load(path.read_text())['exchanges']}


def output_lines(text):
    """Output as lines; a terminal's \\r\\n counts as \\n."""
    text = text.replace('\r\n', '\n')
    return text.split('\n')[:-1] if text.endswith('\n') else ([text] if text else [])


def filled(text, values):
    """TEXT with each {NAME} of VALUES (a role's address) filled in; any other brace is text (a dict's repr)."""
    return re.sub(r'\{(\w+)\}', lambda m: str(values.get(m.group(1), m.group())), text)


def line_pattern(expected, values):
    parts = _NUMBER.split(expected)
    return re.compile(r'(\d{1,5})'.join(re.escape(filled(part, values)) for part in parts))


def render(expected_lines, actual_lines, values):
    """The expected lines with placeholders filled. A line that matches its actual line (the ephemeral
    port being any number) is given as that actual line, so a failing diff shows only what differs."""
    rendered = []
    for i, expected in enumerate(expected_lines):
        actual = actual_lines[i] if i < len(actual_lines) else None
        if actual is not None and line_pattern(expected, values).fullmatch(actual):
            rendered.append(actual)
        else:
            rendered.append(filled(_NUMBER.sub(lambda m: '<port>' if m.group() == PORT_PLACEHOLDER else '<line>', expected), values))
    return rendered


class Differs(AssertionError):
    """A role printed other lines by a step than the exchange says (what it printed and what it should have)."""

    def __init__(self, key, actual, expected):
        super().__init__('{} printed {!r} by now, not {!r}'.format(key, actual, expected))
        self.key, self.actual, self.expected = key, actual, expected


def play(exchange, lab):
    """Plays an exchange's steps on a lab; raises on a step that does not happen."""
    typed = {}  # role -> how much its terminal had shown when text was last typed into it
    for step in exchange['steps']:
        if 'start' in step:
            name = step['start']
            lab.start(name, exchange['roles'][name])
        elif 'type' in step:
            typing = step['type']
            terminal = lab.roles[typing['into']].terminal
            if typing.get('after'):  # since_typed: shown since the last text typed into it (a menu's prompt again)
                try:
                    terminal.wait_for(typing['after'], since=typed.get(typing['into'], 0) if typing.get('since_typed') else 0)
                except health.NotYet as error:
                    raise health.NotYet('{}: {}'.format(typing['into'], error)) from None
            typed[typing['into']] = terminal.shown
            terminal.type(typing['text'])
        elif 'exit' in step:
            role = lab.roles[step['exit']['of']]
            code = role.wait_exit(step['exit'].get('within', health.WAIT))
            if code != step['exit']['code']:
                raise AssertionError('{} exited with {}, not {}: stdout {!r}, stderr {!r}'.format(
                    role.name, code, step['exit']['code'], role.stdout(), role.stderr()))
        elif 'queued' in step:  # AT's kernel holds BYTES from FROM, received, not yet read by the program
            queued = step['queued']
            health.eventually(lambda: lab.queued(queued['at'], lab.roles[queued['from']], queued['bytes']),
                              what='{} never held {} bytes from {}'.format(queued['at'], queued['bytes'], queued['from']))
        elif 'now' in step:  # what roles have printed so far, exactly (e.g. nothing more yet)
            for key, expected in step['now'].items():
                actual = output_lines(lab.roles[key].stdout())
                rendered = render(expected, actual, lab.values())
                if actual != rendered:
                    raise Differs(key, actual, rendered)
        elif 'signal' in step:
            lab.roles[step['signal']['to']].signal(step['signal']['name'])
        else:
            raise ValueError('unknown step {!r}'.format(step))


def _part(key, lines, expected, values):
    """(actual, expected) for one expectation key: the part of the lines it speaks of."""
    if key.endswith('_count'):
        text = '\n'.join(lines)
        return {line: text.count(line) for line in expected}, expected
    if key.endswith('_first'):
        lines = lines[:len(expected)]
    elif key.endswith('_last'):
        lines = lines[-len(expected):]
    return lines, render(expected, lines, values)


def transcripts(exchange, lab, settle=5.0):
    """Each expected stream as (actual, expected rendered); a _varies key is left to reports().
    Output still on its way (docker's log copier, the attach stream) is waited for, at most `settle` s."""
    values = lab.values()

    def read():
        result = {}
        for key, expected in exchange['expect'].items():
            if key.endswith('_varies'):
                continue
            stream = next((key[:-len(part)] for part in PARTS if key.endswith(part)), key)
            role = lab.roles[stream.removesuffix('_stderr')]
            lines = output_lines(role.stderr() if stream.endswith('_stderr') else role.stdout())
            result[key] = _part(key, lines, expected, values)
        return result
    try:
        return health.eventually(lambda: (lambda r: r if all(a == e for a, e in r.values()) else None)(read()), settle)
    except health.NotYet:
        return read()


def reports(exchange, lab):
    """What the lesson says varies, as it came this time: {key: the last line matching its pattern}."""
    found = {}
    for key, pattern in exchange['expect'].items():
        if key.endswith('_varies'):
            lines = [line for line in output_lines(lab.roles[key[:-len('_varies')]].stdout()) if re.fullmatch(pattern, line)]
            found[key] = lines[-1] if lines else None
    return found


