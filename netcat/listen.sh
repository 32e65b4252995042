#!/bin/sh
# Starts the netcat listener of the lesson: `nc -l -u 12345` by default.
#   NC_FLAVOR  openbsd (default, Debian's nc), traditional (needs -p, as the lesson warns) or ncat
#   NC_MODE    udp (default, the lesson's UDP stage) or tcp (the client tested against nc)
#   NC_PORT    the port to listen on (default 12345)
# What nc receives also goes to /tmp/nc-received: `make nc` shows it before attaching, since
# `docker attach` shows only what comes after and `docker logs` holds back a partial line.
set -eu
port=${NC_PORT:-12345}
case "${NC_FLAVOR:-openbsd}/${NC_MODE:-udp}" in
    openbsd/udp)     set -- nc.openbsd -l -u "$port" ;;
    openbsd/tcp)     set -- nc.openbsd -l "$port" ;;
    traditional/udp) set -- nc.traditional -l -u -p "$port" ;;
    traditional/tcp) set -- nc.traditional -l -p "$port" ;;
    ncat/udp)        set -- ncat -l -u "$port" ;;
    ncat/tcp)        set -- ncat -l "$port" ;;
    *) echo "netcat: NC_FLAVOR must be openbsd, traditional or ncat and NC_MODE udp or tcp, not '${NC_FLAVOR:-}' '${NC_MODE:-}'" >&2
       exit 2 ;;
esac
echo "$*" > /tmp/nc-command  # what make lab and make status show
"$@" | tee /tmp/nc-received
