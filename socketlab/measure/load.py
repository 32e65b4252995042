"""The bench's workload, run in a container on the bench's network against one echo server at a time:

    python3 -c "$(cat load.py)" HOST PORT RTT_COUNT CONNECTIONS BULK_BYTES

Prints one JSON object: round-trip latency of 'Hello, world' over one connection (p50, p99 in
microseconds), sequential connect-send-receive-close rate (per second), and bulk echo throughput for
BULK_BYTES sent while reading (MB/s), with the byte counts sent and echoed (a server whose echo stops
is reported as stalled). Every part is bounded in count and by a socket timeout.
"""
import json
import socket
import statistics
import sys
import threading
import time

MESSAGE = b'Hello, world'
TIMEOUT = 30.0
STALL = 10.0  # seconds without progress in the bulk test


def receive_exactly(sock, size):
    data = b''
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError('the server closed the connection after {} of {} bytes'.format(len(data), size))
        data += chunk
    return data


def round_trips(host, port, count):
    sock = socket.create_connection((host, port), timeout=TIMEOUT)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    times = []
    for _ in range(count):
        start = time.perf_counter()
        sock.sendall(MESSAGE)
        receive_exactly(sock, len(MESSAGE))
        times.append(time.perf_counter() - start)
    sock.close()
    return {'rtt_p50_us': percentile(times, 50) * 1e6, 'rtt_p99_us': percentile(times, 99) * 1e6}


def percentile(values, p):
    """The p-th percentile (statistics.quantiles' inclusive method; the value itself for one value)."""
    return values[0] if len(values) == 1 else statistics.quantiles(values, n=100, method='inclusive')[p - 1]


def concurrent(host, port, clients, total):
    """CLIENTS threads at once share TOTAL exchanges, each a new connection; a failed one is counted."""
    times, failed = [], []
    left = iter(range(total))
    lock = threading.Lock()

    def worker():
        while True:
            with lock:
                if next(left, None) is None:
                    return
            start = time.perf_counter()
            try:
                sock = socket.create_connection((host, port), timeout=TIMEOUT)
                sock.sendall(MESSAGE)
                receive_exactly(sock, len(MESSAGE))
                sock.close()
                times.append(time.perf_counter() - start)
            except OSError as error:
                failed.append(str(error))

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    return {'exchanges_per_s': len(times) / elapsed, 'p50_ms': percentile(times, 50) * 1e3 if times else None,
            'p99_ms': percentile(times, 99) * 1e3 if times else None, 'failed': len(failed)}


def connection_rate(host, port, count):
    start = time.perf_counter()
    for _ in range(count):
        sock = socket.create_connection((host, port), timeout=TIMEOUT)
        sock.sendall(MESSAGE)
        receive_exactly(sock, len(MESSAGE))
        sock.close()
    return {'conn_per_s': count / (time.perf_counter() - start)}


def bulk(host, port, size):
    """Sends `size` bytes while reading the echo. A server whose echo stops for STALL seconds is
    reported as stalled (bulk_MBps None) with what it echoed, not waited for."""
    sock = socket.create_connection((host, port), timeout=STALL)
    data = bytes(range(256)) * (size // 256) + bytes(size % 256)
    echoed = bytearray()

    def read():
        try:
            while len(echoed) < size:
                chunk = sock.recv(1 << 18)
                if not chunk:
                    return
                echoed.extend(chunk)
        except OSError:
            return

    reader = threading.Thread(target=read)
    start = time.perf_counter()
    reader.start()
    try:
        sock.sendall(data)
    except OSError:
        pass
    reader.join(STALL * 2)
    elapsed = time.perf_counter() - start
    sock.close()
    complete = len(echoed) == size
    return {'bulk_MBps': size / elapsed / 1e6 if complete else None, 'bulk_sent': size,
            'bulk_echoed': len(echoed), 'bulk_exact': bytes(echoed) == data, 'bulk_stalled': not complete}


if __name__ == '__main__':
    if sys.argv[3] == 'concurrent':
        print(json.dumps(concurrent(sys.argv[1], int(sys.argv[2]), int(sys.argv[4]), int(sys.argv[5]))))
        sys.exit(0)
    host, port, rtt_count, connections, bulk_bytes = sys.argv[1], *map(int, sys.argv[2:6])
    result = {}
    if rtt_count:
        result.update(round_trips(host, port, rtt_count))
    if connections:
        result.update(connection_rate(host, port, connections))
    if bulk_bytes:
        result.update(bulk(host, port, bulk_bytes))
    print(json.dumps(result))
