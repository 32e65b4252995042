"""compose.yaml's services as compose itself resolves them (`compose config`: defaults filled in,
units normalised), and as options for a container the lab starts itself from one of them (a role of
an exchange, a bench server): the same image, user, read-only root, capabilities, limits, mounts
and logs as compose would give it.
"""
import functools
import hashlib
import json
import re
import subprocess

from .paths import COMPOSE_FILE, PUBLISH_FILE, state_dir, write_atomic

# The keys of compose's normalised service model a role uses, and those it leaves to the lab on purpose
# (a role joins the exchange's own network, is never built or published here). Any other key stops
# the run: nothing compose.yaml says is silently dropped.
USED = {'image', 'user', 'read_only', 'tmpfs', 'cap_drop', 'cap_add', 'security_opt', 'mem_limit', 'pids_limit',
        'cpus', 'init', 'stdin_open', 'tty', 'environment', 'healthcheck', 'labels', 'logging', 'volumes',
        'command', 'entrypoint', 'working_dir'}
LEFT_TO_THE_LAB = {'build', 'networks', 'profiles', 'depends_on', 'network_mode', 'pid', 'ports'}



@functools.cache
def normalised_services(target):
    """compose.yaml's services as compose itself resolves them (defaults filled in, units normalised),
    for TARGET (socketlab.target). Kept in .lab/PROJECT/ under a key of everything compose read, so a
    warm run asks compose once."""
    settings, compose = target.settings, target.compose
    argv = compose.command(settings, '--profile', 'client', '--profile', 'tools', 'config',
                           *([] if compose.v1 else ['--format', 'json']))
    env = settings.compose_environment()
    key = hashlib.sha256(json.dumps([argv, env, [p.read_text() for p in (COMPOSE_FILE, PUBLISH_FILE)]]).encode()).hexdigest()[:16]
    # One kept per compose version: a lab run with both (make speed does) asked compose again at each
    # switch, 0.45 s of docker-compose 1.29's start in a make tcp.
    kept = 'compose-config-v{}-'.format(compose.version)
    cached = state_dir(settings.project) / '{}{}.json'.format(kept, key)
    try:
        return json.loads(cached.read_text())
    except (OSError, ValueError):
        pass
    done = subprocess.run(argv, env=compose.environment(settings), capture_output=True, text=True, check=True)
    import yaml  # only when compose is asked: a warm run reads the kept JSON
    services = _literal_dollars(yaml.safe_load(done.stdout)['services'])
    for old in cached.parent.glob(kept + '*.json'):
        old.unlink(missing_ok=True)
    write_atomic(cached, json.dumps(services))
    return services


def container_options(service):
    """A normalised compose service as the lab's container options (socketlab.containers turns them into the
    Engine's create request); refuses keys it does not know. Also its tmpfs mounts, a mapping."""
    unknown = set(service) - USED - LEFT_TO_THE_LAB
    if unknown:
        raise ValueError('compose.yaml uses {} that socketlab.topology does not carry to a container: add it there'.format(sorted(unknown)))
    tmpfs = dict(entry.partition(':')[::2] for entry in service.get('tmpfs', []))
    logging = service.get('logging') or {}
    options = dict(
        user=service.get('user'), read_only=service.get('read_only', False), cap_drop=service.get('cap_drop'),
        cap_add=service.get('cap_add'), security_opt=service.get('security_opt'),
        mem_limit=_bytes(service.get('mem_limit')), pids_limit=service.get('pids_limit'),
        nano_cpus=int(float(service['cpus']) * 1e9) if service.get('cpus') else None, init=service.get('init', False),
        stdin_open=service.get('stdin_open', False), tty=service.get('tty', False),
        mounts=mounts(service), entrypoint=service.get('entrypoint'), working_dir=service.get('working_dir'),
    )
    if service.get('healthcheck'):
        check = service['healthcheck']
        options['healthcheck'] = {'Test': check['test'], 'Retries': check.get('retries', 3),
                                  **{key.title(): duration(check[key]) for key in ('interval', 'timeout') if key in check}}
    if logging:
        options['log_config'] = {'Type': logging.get('driver', 'json-file'), 'Config': logging.get('options', {})}
    return {k: v for k, v in options.items() if v is not None}, tmpfs


def duration(text):
    """A compose duration ("1s", "500ms", "1m30s") in nanoseconds, as the Engine wants it."""
    units = {'h': 3600e9, 'm': 60e9, 's': 1e9, 'ms': 1e6, 'us': 1e3, 'ns': 1}
    parts = re.findall(r'([0-9.]+)(h|ms|m|s|us|ns)', str(text))
    if not parts or ''.join(n + u for n, u in parts) != str(text):
        raise ValueError('compose duration {!r} not understood'.format(text))
    return int(sum(float(number) * units[unit] for number, unit in parts))


def _literal_dollars(value):
    """compose config writes a literal $ as $$ (so its output can be read by compose again); a
    container is given the $ itself."""
    if isinstance(value, str):
        return value.replace('$$', '$')
    if isinstance(value, list):
        return [_literal_dollars(v) for v in value]
    if isinstance(value, dict):
        return {k: _literal_dollars(v) for k, v in value.items()}
    return value


UNITS = {'b': 1, 'k': 1024, 'm': 1024 ** 2, 'g': 1024 ** 3}


def _bytes(value):
    """Compose v2 gives bytes ("134217728"), v1 the unit it was written with ("128m"): bytes, an int."""
    if not value:
        return None
    number, unit = re.fullmatch(r'([0-9.]+)\s*([bkmg]?)b?', str(value).lower()).groups()
    return int(float(number) * UNITS[unit or 'b'])


def mounts(service):
    """The service's volumes as the Engine's mounts."""
    return [mount(**_volume(volume)) for volume in service.get('volumes', [])]


def _volume(volume):
    """A volume as v2 normalises it (a mapping) or as v1 does (source:target[:ro])."""
    if isinstance(volume, str):
        source, target, *mode = volume.split(':')
        return {'source': source, 'target': target, 'type': 'bind', 'read_only': mode == ['ro']}
    return {'source': volume['source'], 'target': volume['target'], 'type': volume['type'],
            'read_only': volume.get('read_only', False)}


def mount(target, source, type='bind', read_only=False):
    """One mount as the Engine's create request takes it."""
    return {'Target': target, 'Source': source, 'Type': type, 'ReadOnly': read_only}
