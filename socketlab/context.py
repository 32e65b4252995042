"""Where the Docker Engine is, as the docker CLI finds it: DOCKER_HOST when it is set, else the CLI's
current context (DOCKER_CONTEXT, else the one `docker context use` chose, in config.json), the default
one being /var/run/docker.sock. Docker Desktop on Linux and colima, for example, serve the Engine on a
socket of their own and name it only in a context, which `docker` and compose read and the docker SDK
does not: the lab gives that endpoint to the SDK, socketlab.api and the commands it runs alike, as
DOCKER_HOST (and, for a context with TLS material, DOCKER_CERT_PATH and DOCKER_TLS_VERIFY=1).

The context's files (docker's own layout): DOCKER_CONFIG (default ~/.docker) holds config.json, and
contexts/meta/ID/meta.json with the endpoint, ID being the SHA-256 of the context's name in hex;
contexts/tls/ID/docker/ holds its ca.pem, cert.pem and key.pem, if it has any.
"""
import functools
import hashlib
import json
import os
import re

from .engine import EngineMissing

DEFAULT = 'default'
NAME = re.compile(r'[a-zA-Z0-9][a-zA-Z0-9_.+-]*\Z')  # a context's name, as `docker context create` takes it


def _folder(environ):
    return environ.get('DOCKER_CONFIG') or os.path.join(os.path.expanduser('~'), '.docker')


def name(environ):
    """The context the docker CLI would use here: None where DOCKER_HOST is set (it wins, as for the CLI)."""
    if environ.get('DOCKER_HOST'):
        return None
    chosen = environ.get('DOCKER_CONTEXT')
    if not chosen:
        try:
            with open(os.path.join(_folder(environ), 'config.json')) as config:
                chosen = json.load(config).get('currentContext')
        except (OSError, ValueError, AttributeError):
            chosen = None
    return chosen or DEFAULT


def endpoint(environ):
    """What to add to ENVIRON so that the Engine is the current context's: {} for the default context."""
    chosen = name(environ)
    if chosen in (None, DEFAULT):
        return {}
    if not isinstance(chosen, str) or not NAME.match(chosen):
        raise EngineMissing('bad docker context {!r} (DOCKER_CONTEXT, or config.json\'s currentContext): '
                            '`docker context ls` lists the names there are'.format(chosen))
    ident = hashlib.sha256(chosen.encode()).hexdigest()
    contexts = os.path.join(_folder(environ), 'contexts')
    try:
        with open(os.path.join(contexts, 'meta', ident, 'meta.json')) as meta:
            docker = json.load(meta)['Endpoints']['docker']
        host = docker['Host']
    except (OSError, ValueError, KeyError, TypeError):
        raise EngineMissing('the docker context {} has no Engine endpoint here: `docker context ls` lists the '
                            'contexts there are, `docker context use default` goes back to the default one'.format(chosen)) from None
    if not isinstance(host, str) or not host:
        raise EngineMissing('the docker context {} names no Engine host'.format(chosen))
    found = {'DOCKER_HOST': host}
    tls = os.path.join(contexts, 'tls', ident, 'docker')
    if os.path.isdir(tls):
        if docker.get('SkipTLSVerify'):
            raise EngineMissing('the docker context {} skips the check of its Engine\'s certificate, which the lab '
                                'always makes: set DOCKER_HOST, DOCKER_CERT_PATH and DOCKER_TLS_VERIFY=1 instead'.format(chosen))
        found.update(DOCKER_CERT_PATH=tls, DOCKER_TLS_VERIFY='1')
    return found


@functools.cache
def use():
    """This process's environment (and so its children's) points at the current context's Engine; once."""
    os.environ.update(endpoint(os.environ))
