#!/usr/bin/env bash
# Breaks the lab's wire on purpose: packet loss and rate limits inside the server's and nc's network
# namespaces, applied by the compose helpers impair-server / impair-netcat (NET_ADMIN alone).
#
#   wire/impair.sh set "loss=30 direction=both mode=random rate=1mbit on=both"   (make impair)
#   wire/impair.sh heal                                                          (make heal)
#   wire/impair.sh sync     apply what is wanted to containers that do not have it yet (make lab/tcp/udp)
#   wire/impair.sh show     what each container's network does now (make status)
#   wire/impair.sh wanted   what is wanted, in one line (make lab)
#
# loss=PERCENT   0-100, dropped with iptables' statistic match (mode=random, or mode=nth: exactly
#                every round(100/PERCENT)-th packet, for repeatable runs)
# direction=     in (towards the server / nc), out (their replies) or both (default)
# rate=RATE      e.g. 1mbit, 500kbit: what server / nc send, through a tbf qdisc
# delay=, reorder=, duplicate=   need the kernel's netem (sch_netem); without it, one line says so
#                and nothing changes
# on=            server, netcat or both (default)
#
# What is wanted lives in .lab/$LAB_PROJECT/impair (written by set and heal, removed by make down); without it,
# each service's `socket-lab.impair` label in compose.yaml, declared once, applied by make lab.
# Env: COMPOSE (the compose command, with -f and -p), LAB_PROJECT.
set -euo pipefail
cd "$(dirname "$0")/.."
STATE_DIR=.lab/$LAB_PROJECT
STATE=$STATE_DIR/impair
die() { echo "impair: $*" >&2; exit 1; }

container_of() {
    docker ps -q --filter "label=com.docker.compose.project=$LAB_PROJECT" --filter "label=com.docker.compose.service=$1"
}

# helper SERVICE SCRIPT: runs SCRIPT (sh) in SERVICE's network namespace, with NET_ADMIN.
helper() {
    $COMPOSE run --rm --no-deps -T "impair-$1" "$2" 2> >(grep -vE '^(Creating|Starting) ' >&2)
}

# parse SPEC: sets loss direction mode rate delay reorder duplicate on; exits on a bad word.
parse() {
    loss=0 direction=both mode=random rate='' delay='' reorder='' duplicate='' on=both
    local word key value
    for word in $1; do
        key=${word%%=*} value=${word#*=}
        case "$key" in
            none) ;;
            loss) [[ "$value" =~ ^[0-9]+$ ]] && (( value <= 100 )) || die "bad loss '$value': give a percentage from 0 to 100"
                  loss=$value ;;
            direction) [[ "$value" =~ ^(in|out|both)$ ]] || die "bad direction '$value': give in, out or both"
                  direction=$value ;;
            mode) [[ "$value" =~ ^(random|nth)$ ]] || die "bad mode '$value': give random or nth"
                  mode=$value ;;
            rate) [[ "$value" =~ ^[0-9]+(bit|kbit|mbit|gbit)$ ]] || die "bad rate '$value': give e.g. 1mbit or 500kbit"
                  rate=$value ;;
            delay|reorder|duplicate) printf -v "$key" %s "$value" ;;
            on) [[ "$value" =~ ^(server|netcat|both)$ ]] || die "bad on '$value': give server, netcat or both"
                on=$value ;;
            *) die "unknown setting '$word': use loss=, direction=, mode=, rate=, delay=, reorder=, duplicate=, on=" ;;
        esac
    done
}

# script: the sh commands that make a namespace's network what parse() read (healed first).
script() {
    local s='iptables -D INPUT -i eth0 -j SOCKET_LAB_IN 2>/dev/null || true
iptables -D OUTPUT -o eth0 -j SOCKET_LAB_OUT 2>/dev/null || true
for c in SOCKET_LAB_IN SOCKET_LAB_OUT; do iptables -F $c 2>/dev/null || true; iptables -X $c 2>/dev/null || true; done
tc qdisc del dev eth0 root 2>/dev/null || true
'
    local match chain hook
    if (( loss > 0 )); then
        if [ "$mode" = nth ]; then
            match="--mode nth --every $(( (100 + loss / 2) / loss )) --packet 0"
        else
            match="--mode random --probability $(printf '0.%02d' "$loss")"
            (( loss == 100 )) && match="--mode random --probability 1"
        fi
        for chain in IN OUT; do
            [ "$direction" = both ] || [ "$direction" = "${chain,,}" ] || continue
            hook=$([ $chain = IN ] && echo 'INPUT -i eth0' || echo 'OUTPUT -o eth0')
            s+="iptables -N SOCKET_LAB_$chain
iptables -A SOCKET_LAB_$chain -m statistic $match -j DROP
iptables -A ${hook%% *} ${hook#* } -j SOCKET_LAB_$chain
"
        done
    fi
    if [ -n "$delay$reorder$duplicate" ]; then
        s+="tc qdisc add dev eth0 root netem${delay:+ delay $delay}${reorder:+ reorder $reorder}${duplicate:+ duplicate $duplicate}${rate:+ rate $rate}
"
    elif [ -n "$rate" ]; then
        s+="tc qdisc add dev eth0 root tbf rate $rate burst 32kbit latency 400ms
"
    fi
    printf '%s' "$s"
}

services() { [ "$on" = both ] && echo server netcat || echo "$on"; }

# wanted SERVICE: the spec wanted for SERVICE now.
wanted() {
    if [ -f "$STATE" ]; then cat "$STATE"; return; fi
    local id; id=$(container_of "$1")
    [ -z "$id" ] || docker inspect -f '{{index .Config.Labels "socket-lab.impair"}}' "$id"
}

# apply_spec SPEC SERVICE: apply with the arguments the other way round, for on_both.
apply_spec() { apply "$2" "$1"; }

# apply SERVICE SPEC: makes SERVICE's network what SPEC says, if it is running.
apply() {
    local id; id=$(container_of "$1")
    [ -n "$id" ] || return 0
    parse "$2"
    if [[ " $(services) " == *" $1 "* ]]; then helper "$1" "$(script)"; else loss=0 rate='' delay='' reorder='' duplicate=''; helper "$1" "$(script)"; fi
    echo "$id" > "$STATE_DIR/applied-$1"
}

check_netem() {
    [ -n "$delay$reorder$duplicate" ] || return 0
    local id; id=$(container_of server); [ -n "$id" ] || id=$(container_of netcat)
    [ -n "$id" ] || die "the lab is not running: make lab"
    helper "$([ "$(container_of server)" = "$id" ] && echo server || echo netcat)" \
        'tc qdisc add dev lo root netem delay 1ms 2>/dev/null && tc qdisc del dev lo root' >/dev/null 2>&1 \
        || die "this kernel has no netem (sch_netem): delay, reorder and duplicate cannot be applied; nothing changed"
}

describe() {
    parse "$1"
    local parts=()
    local where=${on/both/server and netcat} way=${direction/both/both directions}
    (( loss > 0 )) && parts+=("loss ${loss}% $way$([ "$mode" = nth ] && echo " (exactly 1 packet in $(( (100 + loss / 2) / loss )))")")
    [ -n "$rate" ] && parts+=("rate $rate out")
    [ -n "$delay" ] && parts+=("delay $delay")
    [ -n "$reorder" ] && parts+=("reorder $reorder")
    [ -n "$duplicate" ] && parts+=("duplicate $duplicate")
    local suffix=" on $where"
    if [ -n "${2:-}" ]; then  # describe SPEC SERVICE: what SPEC does to that one service
        suffix=''
        [[ " $(services) " == *" $2 "* ]] || parts=()
    fi
    if [ ${#parts[@]} = 0 ]; then echo none; else local IFS=,; echo "${parts[*]}$suffix" | sed 's/,/, /g'; fi
}

# on_both COMMAND...: COMMAND server and COMMAND netcat at the same time (a helper run takes about
# half a second); their output in that order; fails if either does.
on_both() {
    local out_server out_netcat rc=0
    out_server=$(mktemp) out_netcat=$(mktemp)
    "$@" server >"$out_server" & local p1=$!
    "$@" netcat >"$out_netcat" & local p2=$!
    wait $p1 || rc=1
    wait $p2 || rc=1
    cat "$out_server" "$out_netcat"
    rm -f "$out_server" "$out_netcat"
    return $rc
}

sync_one() {
    local id spec; id=$(container_of "$1"); [ -n "$id" ] || return 0
    [ "$(cat "$STATE_DIR/applied-$1" 2>/dev/null)" = "$id" ] && return 0
    spec=$(wanted "$1")
    if [ -z "$spec" ] || [ "$spec" = none ]; then echo "$id" > "$STATE_DIR/applied-$1"; return 0; fi
    apply "$1" "$spec"
}

show_one() {
    [ -n "$(container_of "$1")" ] || { echo "$1: not running"; return 0; }
    echo "$1: $(helper "$1" 'for c in IN OUT; do iptables -L SOCKET_LAB_$c -n -v -x 2>/dev/null | awk -v c=$c '"'"'/DROP/ { for (i = 1; i <= NF; i++) { if ($i == "probability") how = sprintf("%g%%", $(i+1) * 100); if ($i == "every") how = "1 packet in " $(i+1) }; printf "loss %s %s (%d dropped so far); ", (c == "IN" ? "in" : "out"), how, $1 }'"'"'; done
tc qdisc show dev eth0 | awk '"'"'/tbf|netem/ { printf "%s; ", $0 } END { printf "\n" }'"'"'' | sed 's/; $//; s/^$/no impairment/')"
}

mkdir -p "$STATE_DIR"
case "${1:-}" in
    set)
        parse "${2:-}"
        check_netem
        echo "$2" > "$STATE"
        on_both apply_spec "$2"
        if [ -z "$(container_of server)$(container_of netcat)" ]; then
            echo "Impairment wanted: $(describe "$2") (the lab is not running: make lab applies it)"
        else
            echo "Impairment now: $(describe "$2") (make heal undoes it)"
        fi ;;
    heal)
        echo none > "$STATE"
        on_both apply_spec none
        echo "Impairment now: none" ;;
    sync) on_both sync_one ;;
    wanted)
        for s in server netcat; do printf '%s: %s\n' "$s" "$(describe "$(wanted "$s")" "$s")"; done ;;
    show) on_both show_one ;;
    *) die "usage: wire/impair.sh set SPEC | heal | sync | show | wanted" ;;
esac
