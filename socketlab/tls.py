"""Lesson 7's certificates, one set per lab, in .lab/PROJECT/tls/ (make down removes it), mounted
read-only at /tls in the server's and the clients' containers; never in an image, never committed.

    lesson/server.crt, server.key   the lesson's own pair (its openssl commands): self-signed, CN=localhost
    ca.crt                          the lab's CA: what a client trusts to check the server properly
    lab/server.crt, server.key      the server's certificate from that CA, for "server" and "localhost"

They are made by compose's `certificates` service (socketlab/certificates.sh, openssl in the lab's
base image, no network, as the user who runs make) the first time a stage or a client needs them.
"""
import fcntl
import os
import shutil

from .paths import ROOT, state_dir

STAGES = ('tls-as-printed', 'tls')  # the TLS stages of server/ServerPython.py (settings.STAGES names them too)
FILES = ('lesson/server.crt', 'lesson/server.key', 'ca.crt', 'ca.key', 'lab/server.crt', 'lab/server.key')
# Where the server runs for each stage: the folder holding the pair it opens as "server.crt"/"server.key".
LAB_CA_STAGES = ('tls',)  # the lab's fixed stage presents the CA's certificate; every other, the lesson's
CA_IN_CONTAINERS = '/tls/ca.crt'


def folder(project):
    """The lab's certificates folder, with the two folders a server may run in (they must be there
    before a container mounts it: the Engine would make a missing one, as root)."""
    path = state_dir(project) / 'tls'
    for name in ('lesson', 'lab'):
        (path / name).mkdir(parents=True, exist_ok=True)
    return path


def needed(stage='', program=None):
    """Whether a server needs the certificates: a TLS stage of the lab's server, or a PROGRAM file that
    imports ssl (a learner's, or a lesson's as printed)."""
    from . import learner
    return stage in STAGES or (program is not None and learner.uses_tls(program))


def server_folder(stage):
    return '/tls/lab' if stage in LAB_CA_STAGES else '/tls/lesson'


def made(project):
    path = state_dir(project) / 'tls'
    return all((path / name).exists() for name in FILES)


def said(project):
    """make status's line: where the lab's CA certificate is (what a client trusts), or that none is made yet."""
    if not made(project):
        return 'TLS: no certificates yet (make lab STAGE=tls or make tls makes them)'
    shown = (state_dir(project) / 'tls' / 'ca.crt').relative_to(ROOT)
    return "TLS: the lab's CA certificate is {} (in the containers: {}); make down removes it".format(shown, CA_IN_CONTAINERS)


def ensure(target):
    """The lab's certificates, made once (two make commands, or the suite's workers, at once: one makes them)."""
    settings = target.settings
    if made(settings.project):
        return folder(settings.project)
    from . import oneoff
    path = folder(settings.project)
    with open(path / '.lock', 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if made(settings.project):
            return path
        new = '.new-' + os.urandom(4).hex()
        (path / new).mkdir()
        try:
            status, out = oneoff.run(target, 'certificates', None, '/tls/' + new, capture=True, quiet=True)
            if status:
                from .errors import LabError
                raise LabError('the lab could not make its certificates (openssl said: {})'.format(out.strip()[-300:]))
            for name in FILES:  # each file into place whole; the folders themselves stay (they are mounted)
                os.replace(path / new / name, path / name)
        finally:
            shutil.rmtree(path / new, ignore_errors=True)
    return path
