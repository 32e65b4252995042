"""Runs inside the helper queue-SERVICE, in the server's or nc's network namespace, for as long as an
impairment needs it. iptables hands the container's outgoing packets to NFQUEUE; this program drops
those iptables' statistic match marked as lost, holds each other one for its delay (jitter drawn per
packet, uniformly, as netem does), lets REORDER % of them go at once so they overtake the held ones
(netem's reorder), sends DUPLICATE % twice, then lets each go. Delay and the rest where the kernel
has no netem (sch_netem); loss of outgoing packets always: dropped here, a packet is lost as on a
wire, while iptables' DROP in OUTPUT tells the sender (a SYN,ACK that cannot be sent again makes the
kernel forget the half-open connection, and the client's next packet meets a reset).

Bounded and fail-open: the kernel holds at most MAXLEN packets for it and passes the rest straight on;
the iptables rule says --queue-bypass, so while this program is not running packets pass undelayed,
never blackholed. Its one line per second of counts (held, let go, duplicated) is what make status shows.

    python3 nfqueue.py QUEUE DELAY_MS JITTER_MS REORDER_PERCENT DUPLICATE_PERCENT

The nfnetlink_queue messages are built with struct, as the kernel's linux/netfilter/nfnetlink_queue.h
lays them out (the Python bindings for it need a C build or ship for x86-64 only).
"""
import heapq
import random
import select
import signal
import socket
import struct
import sys
import time

NETLINK_NETFILTER = 12
NLM_F_REQUEST, NLM_F_ACK = 1, 4
NLMSG_ERROR = 2
QUEUE_PACKET, QUEUE_VERDICT, QUEUE_CONFIG = (3 << 8) | 0, (3 << 8) | 1, (3 << 8) | 2  # NFNL_SUBSYS_QUEUE
CFG_CMD, CFG_PARAMS, CFG_QUEUE_MAXLEN, CFG_MASK, CFG_FLAGS = 1, 2, 3, 4, 5
CMD_BIND = 1
COPY_PACKET = 2
CFG_F_FAIL_OPEN = 1
PACKET_HDR, VERDICT_HDR, PAYLOAD = 1, 2, 10
NF_DROP, NF_ACCEPT = 0, 1
MARK = 3
MAXLEN = 2048
BYPASS_MARK = 0x50c1  # a duplicate sent by this program carries it: the NFQUEUE rule lets it pass
LOST_MARK = 0x50c2  # iptables' statistic match marks the packets to lose


def attribute(kind, value):
    length = 4 + len(value)
    return struct.pack('=HH', length, kind) + value + b'\0' * (-length % 4)


def message(kind, queue, attributes, flags=NLM_F_REQUEST):
    body = struct.pack('=BBH', socket.AF_UNSPEC, 0, socket.htons(queue)) + b''.join(attributes)
    return struct.pack('=IHHII', 16 + len(body), kind, flags, 0, 0) + body


def attributes(data):
    found = {}
    while len(data) >= 4:
        length, kind = struct.unpack_from('=HH', data)
        if length < 4:
            break
        found[kind & 0x7fff] = data[4:length]
        data = data[(length + 3) & ~3:]
    return found


def messages(data):
    while len(data) >= 16:
        length, kind = struct.unpack_from('=IH', data)
        if length < 16:
            break
        yield kind, data[16:length]
        data = data[(length + 3) & ~3:]


def bind(queue):
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sock.bind((0, 0))
    for config in ([attribute(CFG_CMD, struct.pack('>BBH', CMD_BIND, 0, 0))],
                   [attribute(CFG_PARAMS, struct.pack('>IB', 0xffff, COPY_PACKET)),
                    attribute(CFG_QUEUE_MAXLEN, struct.pack('>I', MAXLEN)),
                    attribute(CFG_FLAGS, struct.pack('>I', CFG_F_FAIL_OPEN)),
                    attribute(CFG_MASK, struct.pack('>I', CFG_F_FAIL_OPEN))]):
        sock.send(message(QUEUE_CONFIG, queue, config, NLM_F_REQUEST | NLM_F_ACK))
        for kind, body in messages(sock.recv(65536)):
            error = -struct.unpack_from('=i', body)[0] if kind == NLMSG_ERROR else 0
            if error:
                raise OSError(error, 'binding NFQUEUE {}'.format(queue))
    return sock


def main(queue, delay_ms, jitter_ms, reorder, duplicate):
    sock = bind(queue)
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)  # the duplicates, as they were
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, BYPASS_MARK)
    held, order = [], 0  # (when to let go, arrival order, packet id, packet to send again or None)
    counts = {'held': 0, 'let go': 0, 'duplicated': 0, 'dropped': 0}
    shown = time.monotonic()

    def verdict(packet_id, what):
        sock.send(message(QUEUE_VERDICT, queue, [attribute(VERDICT_HDR, struct.pack('>II', what, packet_id))]))

    def let_go(packet_id, again):
        verdict(packet_id, NF_ACCEPT)
        counts['let go'] += 1
        if again is not None:
            raw.sendto(again, (socket.inet_ntoa(again[16:20]), 0))
            counts['duplicated'] += 1

    def stop(number, frame):  # make heal, make down: everything held goes on its way first
        for _, _, packet_id, again in held:
            let_go(packet_id, again)
        sys.exit(0)
    signal.signal(signal.SIGTERM, stop)
    print('queue {}: delay {} ms, jitter {} ms, reorder {} %, duplicate {} %'.format(queue, delay_ms, jitter_ms, reorder, duplicate), flush=True)
    while True:
        now = time.monotonic()
        while held and held[0][0] <= now:
            _, _, packet_id, again = heapq.heappop(held)
            let_go(packet_id, again)
        if now - shown >= 1:
            print(' '.join('{}={}'.format(k.replace(' ', '_'), v) for k, v in counts.items()), flush=True)
            shown = now
        ready, _, _ = select.select([sock], [], [], min(1.0, max(0.0, held[0][0] - now)) if held else 1.0)
        if not ready:
            continue
        try:
            data = sock.recv(1 << 18)
        except OSError:  # ENOBUFS: the kernel dropped messages it could not give us; it goes on
            continue
        for kind, body in messages(data):
            if kind != QUEUE_PACKET:
                continue
            found = attributes(body[4:])
            packet_id = struct.unpack_from('>I', found[PACKET_HDR])[0]
            if MARK in found and struct.unpack('>I', found[MARK])[0] == LOST_MARK:
                verdict(packet_id, NF_DROP)
                counts['dropped'] += 1
                continue
            wait = 0.0 if random.uniform(0, 100) < reorder else max(0.0, random.uniform(delay_ms - jitter_ms, delay_ms + jitter_ms))
            again = found.get(PAYLOAD) if random.uniform(0, 100) < duplicate else None
            order += 1
            counts['held'] += 1
            heapq.heappush(held, (time.monotonic() + wait / 1000, order, packet_id, again))


if __name__ == '__main__':
    queue, delay_ms, jitter_ms, reorder, duplicate = (float(arg) for arg in sys.argv[1:6])
    main(int(queue), delay_ms, jitter_ms, reorder, duplicate)
