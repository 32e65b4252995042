"""The Docker Engine's HTTP API with Python's standard library alone, for the learner's edit-run loop:
a one-off container's run (create, attach, start, wait, remove) and the look-ups before it (the lab's
server, the images it needs). The docker SDK (socketlab.engine) does the rest; importing it (its
requests and urllib3) took 0.1 s of every warm make tcp, a third of what make tcp spent above its floor.

The Engine is found where the docker SDK finds it, the docker CLI's current context first made DOCKER_HOST
(socketlab.context): DOCKER_HOST (unix://PATH or tcp://HOST:PORT; with
DOCKER_TLS_VERIFY set, TLS with DOCKER_CERT_PATH's ca.pem, cert.pem and key.pem), else the Unix socket
/var/run/docker.sock. Each request is HTTP/1.0 on a connection of its own (the Engine answers it whole,
then closes; http.client's import, its email parser and ssl, cost more than the request), with no API
version in its path: the Engine answers in its own, as the docker SDK asks it to.
"""
import json
import os
import socket
import urllib.parse

from .engine import DEFAULT_SOCKET, EngineMissing, host, unreachable  # noqa: F401 (DEFAULT_SOCKET: the tests' proxy)

TIMEOUT = 60  # a request's bound (the docker SDK's default); wait and attach have none


class ApiError(Exception):
    """The Engine refused a request: its status and its own message."""

    def __init__(self, status, explanation):
        super().__init__('{} {}'.format(status, explanation))
        self.status, self.explanation = status, explanation


class NotFound(ApiError):
    pass


def _connected(timeout):
    """A socket connected to the Engine."""
    from . import context
    context.use()  # the docker CLI's current context (socketlab.context)
    address = host()
    where = urllib.parse.urlsplit(address)
    if where.scheme not in ('unix', 'tcp'):
        raise EngineMissing('DOCKER_HOST {}: the lab speaks to an Engine at unix:// or tcp:// only'.format(address))
    try:
        if where.scheme == 'unix':
            connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            connection.settimeout(timeout)
            connection.connect(where.path)
            return connection
        tls = bool(os.environ.get('DOCKER_TLS_VERIFY'))
        connection = socket.create_connection((where.hostname, where.port or (2376 if tls else 2375)), timeout)
        if not tls:
            return connection
        import ssl
        certs = os.environ.get('DOCKER_CERT_PATH') or os.path.expanduser('~/.docker')
        context = ssl.create_default_context(cafile=os.path.join(certs, 'ca.pem'))
        context.load_cert_chain(os.path.join(certs, 'cert.pem'), os.path.join(certs, 'key.pem'))
        return context.wrap_socket(connection, server_hostname=where.hostname)
    except OSError as error:
        raise unreachable(error) from None


def _request_bytes(method, path, query=None, body=None, upgrade=False):
    """The request as the Engine reads it: HTTP/1.0, or HTTP/1.1 when the connection is to be taken over
    by a stream (UPGRADE: attach)."""
    data = b'' if body is None else json.dumps(body).encode()
    lines = ['{} {}{} HTTP/1.{}'.format(method, path, '?' + urllib.parse.urlencode(query) if query else '', int(upgrade)),
             'Host: docker', 'Content-Length: {}'.format(len(data))]
    lines += ['Content-Type: application/json'] if body is not None else []
    lines += ['Connection: Upgrade', 'Upgrade: tcp'] if upgrade else []
    return '\r\n'.join(lines + ['', '']).encode() + data


def _code(status_line):
    """An answer's status code from its first line (HTTP/1.1 200 OK); 0 when there is none."""
    words = status_line.split(None, 2)
    return int(words[1]) if len(words) > 1 and words[1].isdigit() else 0


def _refused(status, data):
    """ApiError (NotFound) with the Engine's own message."""
    try:
        message = json.loads(data)['message']
    except (ValueError, KeyError, TypeError):
        message = data.decode(errors='replace').strip()
    return (NotFound if status == 404 else ApiError)(status, message)


def _answer(received):
    """A whole answer's JSON (None when it has none); ApiError (NotFound) if it is a refusal."""
    head, _, data = bytes(received).partition(b'\r\n\r\n')
    status = _code(head)
    if status >= 400 or status == 0:
        raise _refused(status, data)
    return json.loads(data) if data.strip() else None


def _exchanged(connection, request, received):
    """REQUEST sent, and the whole answer added to RECEIVED (the Engine closes the connection after it)."""
    connection.sendall(request)
    while chunk := connection.recv(65536):
        received += chunk


def request(method, path, query=None, body=None, timeout=TIMEOUT):
    """One request: METHOD PATH?QUERY with BODY as JSON; the Engine's JSON answer (None when it has none)."""
    received = bytearray()
    with _connected(timeout) as connection:
        _exchanged(connection, _request_bytes(method, path, query, body), received)
    return _answer(received)


def _labelled(labels):
    return {'label': ['{}={}'.format(key, value) for key, value in labels.items()]}


def containers(labels, all=False):
    """The containers that carry LABELS (a mapping), as the Engine lists them (running ones unless ALL)."""
    return request('GET', '/containers/json', {'all': int(all), 'filters': json.dumps(_labelled(labels))})


def inspect(name):
    """The container named (or with that id) as the Engine inspects it: a Container; NotFound if none."""
    return Container(request('GET', '/containers/{}/json'.format(urllib.parse.quote(name))))


def image(name):
    """The image of that name as the Engine inspects it, or None when there is none."""
    try:
        return request('GET', '/images/{}/json'.format(urllib.parse.quote(name, safe='/:')))
    except NotFound:
        return None


class Container:
    """A container as the Engine's inspect shows it, read as the docker SDK's model reads it (id, name,
    attrs, labels, status): what a caller of this module needs of it."""

    def __init__(self, attrs):
        self.attrs = attrs

    id = property(lambda self: self.attrs['Id'])
    name = property(lambda self: self.attrs['Name'].lstrip('/'))
    labels = property(lambda self: self.attrs['Config'].get('Labels') or {})
    status = property(lambda self: self.attrs['State']['Status'])


def create(config, name):
    """A container made from CONFIG (the body of the Engine's create), named NAME: its id. Stopped while
    the Engine makes it (Ctrl-C, a signal), the Engine's answer is read all the same (it goes on making the
    container of a caller that is gone) and what it made is removed before the KeyboardInterrupt goes on."""
    received = bytearray()
    with _connected(TIMEOUT) as connection:
        try:
            _exchanged(connection, _request_bytes('POST', '/containers/create', {'name': name}, config), received)
        except KeyboardInterrupt:
            try:
                while chunk := connection.recv(65536):  # the rest of the answer, if the request went out
                    received += chunk
                remove(_answer(received)['Id'])
            except (OSError, ApiError, ValueError, TypeError, KeyError):
                pass  # no answer, or a refusal: nothing was made
            raise
    return _answer(received)['Id']


def start(container_id):
    request('POST', '/containers/{}/start'.format(container_id))


def wait(container_id):
    """Its exit status, once it has exited."""
    return request('POST', '/containers/{}/wait'.format(container_id), timeout=None)['StatusCode']


def remove(container_id):
    """Removed, running or not; one already gone is no error."""
    try:
        request('DELETE', '/containers/{}'.format(container_id), {'force': 1})
    except NotFound:
        pass


def attach(container_id, tty):
    """Its output from its start, as it comes: (stdout, stderr) chunks, one of them None. Attached before
    the start (returned once the Engine says so), nothing is missed. TTY: the container writes to a
    terminal, one stream; else the Engine sends frames, each an 8-byte header (stream, 0, 0, 0, size in 4
    bytes) and its bytes.

    The Engine answers an attach (101) before it has joined the container's streams: a start sent at
    once could run the program before that, and its first lines were lost, or, asked with the log so
    far (logs=1, as the docker SDK's callers had it), came twice (seen under load: "out err out err
    1 2 ..."). It says it has joined them with the container's "attach" event (_attached)."""
    with _connected(None) as connection:
        connection.sendall(_request_bytes('POST', '/containers/{}/attach'.format(container_id),
                                          {'stream': 1, 'stdout': 1, 'stderr': 1}, upgrade=True))
        reader = connection.makefile('rb')  # it holds the connection once this one is closed
    status = _code(reader.readline())
    while reader.readline() not in (b'\r\n', b'\n', b''):
        pass  # its headers
    if status not in (101, 200):
        with reader:
            raise _refused(status, reader.read())
    try:
        _attached(container_id)
    except BaseException:
        reader.close()
        raise
    return _frames(reader, tty)


def _attached(container_id):
    """Returns once the Engine has logged the container's "attach" event (after it joined the streams).
    From the events it keeps (since=0; the container is new, so any attach of it is this one), then as
    they come; bounded by TIMEOUT."""
    filters = json.dumps({'type': ['container'], 'container': [container_id], 'event': ['attach']})
    with _connected(TIMEOUT) as connection:
        connection.sendall(_request_bytes('GET', '/events', {'since': 0, 'filters': filters}))
        with connection.makefile('rb') as reader:
            status = _code(reader.readline())
            while reader.readline() not in (b'\r\n', b'\n', b''):
                pass  # its headers
            if status != 200:
                raise _refused(status, reader.read())
            try:
                for line in reader:  # one JSON object a line (HTTP/1.0: no chunks)
                    if line.strip() and json.loads(line).get('Action') == 'attach':
                        return
            except TimeoutError:
                raise ApiError(0, 'the Engine did not say within {} s that it had attached to {}'.format(
                    TIMEOUT, container_id)) from None
    raise ApiError(0, 'the Engine ended its events before it said it had attached to {}'.format(container_id))


def _frames(reader, tty):
    with reader:
        while True:
            if tty:
                data = reader.read1(65536)
                if not data:
                    return
                yield data, None
                continue
            header = reader.read(8)
            if len(header) < 8:
                return
            data = reader.read(int.from_bytes(header[4:], 'big'))
            yield (data, None) if header[0] != 2 else (None, data)
