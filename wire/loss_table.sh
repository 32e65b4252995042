#!/usr/bin/env bash
# Measures what make impair's random loss does on this machine, for the README's table (make loss-table):
#   UDP: 200 datagrams from a client to nc with LOSS% dropped on the way in; how many nc printed.
#   TCP: the lesson's exchange, RUNS times with LOSS% dropped both ways at the server; how many printed
#        "Received: b'Hello, world'" (client timeout 10 s), and the median time of a run (container
#        start included).
# Bounded: 200 datagrams and RUNS exchanges per loss value, each with the client's timeout.
# Env: COMPOSE (with -f and -p), LAB_PROJECT, LOSSES (default "0 10 30 50"), RUNS (default 10).
set -euo pipefail
cd "$(dirname "$0")/.."
LOSSES=${LOSSES:-0 10 30 50}
RUNS=${RUNS:-10}
SEND='import socket, time
PORT = '"${SERVER_PORT:-12345}"'
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(200):
    sock.sendto(b"%d\n" % i, ("netcat", PORT))
    time.sleep(0.002)'

fresh_netcat() {
    $COMPOSE up -d --no-deps --force-recreate netcat >/dev/null 2>&1
    local id; id=$(docker ps -q --filter "label=com.docker.compose.project=$LAB_PROJECT" --filter label=com.docker.compose.service=netcat)
    for i in $(seq 100); do docker exec "$id" sh -c "ss -Hantu 'sport = :${SERVER_PORT:-12345}' | grep -q ." && break; sleep 0.1; done
    wire/impair.sh sync
}

# A client whose last packets are lost is gone (its container removed) before it could send them
# again, and the one-client-at-a-time server waits for it until IDLE_TIMEOUT: measure with a short one
# (2 s), and put the lab's server back as it was at the end.
IDLE_TIMEOUT=2 $COMPOSE up -d server >/dev/null 2>&1
trap '$COMPOSE up -d server >/dev/null 2>&1' EXIT

printf '| LOSS | UDP datagrams nc printed (of 200) | TCP exchanges complete (of %s) | TCP median seconds |\n|---|---|---|---|\n' "$RUNS"
for loss in $LOSSES; do
    wire/impair.sh set "loss=$loss direction=in on=netcat" >/dev/null
    fresh_netcat
    $COMPOSE run --rm --no-deps -T --entrypoint python3 client -c "$SEND" 2>/dev/null
    id=$(docker ps -q --filter "label=com.docker.compose.project=$LAB_PROJECT" --filter label=com.docker.compose.service=netcat)
    udp=$(docker exec "$id" sh -c 'wc -l < /tmp/nc-received')

    wire/impair.sh set "loss=$loss direction=both on=server" >/dev/null
    ok=0 times=()
    for run in $(seq "$RUNS"); do
        start=$(date +%s.%N)
        out=$($COMPOSE run --rm --no-deps -T client --timeout 10 2>/dev/null || true)
        times+=("$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { print e - s }')")
        [[ "$out" == *"Received: b'Hello, world'"* ]] && ok=$((ok + 1))
    done
    median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{ a[NR] = $1 } END { printf "%.1f", a[int((NR + 1) / 2)] }')
    printf '| %s%% | %s | %s | %s |\n' "$loss" "$udp" "$ok" "$median"
done
wire/impair.sh heal >/dev/null
