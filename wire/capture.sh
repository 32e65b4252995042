#!/usr/bin/env bash
# Records one exchange: tcpdump in the capture sidecar in SERVICE's network namespace (compose
# service capture-SERVICE, NET_RAW), then the ladder diagram of what it saw.
#
#   wire/capture.sh SERVICE NAME -- COMMAND...      (make tcp CAPTURE=1, make capture, make udp CAPTURE=1)
#
# The sidecar runs detached (a terminal resize or Ctrl-C here cannot cut it short) and writes to its
# own /tmp; the pcap is copied out by this shell, so RESULTS/NAME-TIME.pcap and .svg belong to the
# user who ran make, never to root. Env: COMPOSE (with -f and -p), LAB_PROJECT, SERVER_PORT,
# PYTHON (with dpkt), RESULTS (the folder, default results).
set -euo pipefail
service=$1 name=$2
shift 3
cd "$(dirname "$0")/.."
results=${RESULTS:-results}
mkdir -p "$results"
stem=$results/$name-$(date +%Y%m%d-%H%M%S)
container=$LAB_PROJECT-capture-$service
port=${SERVER_PORT:-12345}
ladder() { "$PYTHON" wire/ladder.py --port "$port" "$@"; }
copy_out() { docker exec "$container" cat /tmp/capture.pcap >"$stem.pcap"; }

docker rm -f "$container" >/dev/null 2>&1 || true
trap 'docker rm -f "$container" >/dev/null 2>&1 || true' EXIT
# -U: each packet goes to the file as it comes, so the ladder can tell when the exchange is complete.
out=$($COMPOSE run -d --rm --no-deps --name "$container" "capture-$service" \
      -i eth0 -U -w - "port $port" 2>&1) || { echo "$out" >&2; exit 1; }

# Ready when tcpdump says it listens (bounded); a capture that could not start says why.
for i in $(seq 300); do
    docker logs "$container" 2>&1 | grep -q 'listening on' && break
    [ "$(docker inspect -f '{{.State.Running}}' "$container" 2>/dev/null)" = true ] && [ "$i" != 300 ] \
        || { docker logs "$container" >&2 2>&1 || true; echo "capture: tcpdump did not start" >&2; exit 1; }
    sleep 0.1
done

status=0
"$@" || status=$?
# The last packets (a TCP close's last ACK, the UDP reply) may still be on their way: wait for them
# a little (after a loss they never come).
for i in $(seq 30); do
    copy_out
    ladder --check-complete "$stem.pcap" && break
    sleep 0.1
done
echo
echo "Captured in $service's network namespace: $stem.pcap"
ladder --server-name "$([ "$service" = netcat ] && echo nc || echo server)" --svg "$stem.svg" "$stem.pcap" || true
exit $status
