#!/usr/bin/env bash
# Builds socket-lab/base, the image every lab container starts from, with no container registry needed.
#   BASE_FROM=auto    (default) the Dockerfile when $PYTHON_IMAGE is present or pullable, else debian
#   BASE_FROM=python  base/Dockerfile FROM $PYTHON_IMAGE (default python:3.12-slim)
#   BASE_FROM=debian  a Debian rootfs from mmdebstrap with this host's own apt sources, docker import-ed
# BASE_IMAGE names the result (default socket-lab/base); BASE_SUITE the Debian suite (default: the host's).
set -euo pipefail
cd "$(dirname "$0")"

BASE_FROM=${BASE_FROM:-auto}
BASE_IMAGE=${BASE_IMAGE:-socket-lab/base}
PYTHON_IMAGE=${PYTHON_IMAGE:-python:3.12-slim}
BASE_RECIPE=${BASE_RECIPE:-}  # socketlab/images.py's hash of this folder: a changed package list rebuilds

die() { echo "base/build.sh: $*" >&2; exit 1; }

from_dockerfile() {
    echo "Building $BASE_IMAGE from $PYTHON_IMAGE (base/Dockerfile)"
    local out  # the builder's progress (and the legacy builder's deprecation notice) only if it fails
    out=$(docker build --build-arg "PYTHON_IMAGE=$PYTHON_IMAGE" --label "socket-lab.built-from=$BASE_RECIPE" --tag "$BASE_IMAGE" . 2>&1) || { echo "$out" >&2; exit 1; }
}

# The host's apt sources, as files mmdebstrap pastes into the rootfs: no mirror is named here.
host_sources() {
    local f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [ -s "$f" ] && grep -qE '^[[:space:]]*(deb|Types:)' "$f" && echo "$f"
    done
    return 0
}

# A stop while mmdebstrap runs: its process group is told and waited for; the script ends as the signal
# (128 + NUMBER) says.
stopped() {
    trap '' INT TERM HUP  # a second stop (make's, after the group's) waits with this one
    [ -z "${making:-}" ] || { kill -TERM -- "-$making" 2>/dev/null; wait "$making" || true; }
    exit $((128 + $1))
}

from_debian() {
    if ! command -v mmdebstrap >/dev/null; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            echo "Installing mmdebstrap with apt-get"
            local out  # apt's progress and notices only if it fails
            out=$( { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mmdebstrap; } 2>&1 ) \
                || { echo "$out" >&2; die "apt-get could not install mmdebstrap"; }
        else
            die "no python image and no mmdebstrap: install mmdebstrap (Debian: apt-get install mmdebstrap), or set PYTHON_IMAGE to a local python:3.11+ image"
        fi
    fi
    local suite sources
    suite=${BASE_SUITE:-$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")}
    [ -n "$suite" ] || die "cannot tell this host's Debian suite: set BASE_SUITE (e.g. bookworm)"
    mapfile -t sources < <(host_sources)
    [ "${#sources[@]}" -gt 0 ] || die "no apt sources in /etc/apt: set BASE_FROM=python with a local PYTHON_IMAGE"
    echo "Building $BASE_IMAGE from Debian $suite packages (mmdebstrap, this host's apt sources)"
    # The rootfs is made in memory where there is room (1 GiB) and it may run programs: its 10,000 files
    # made and removed on disk cost 7 s of 25 here. TMPDIR given wins.
    if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ] \
        && ! findmnt -no OPTIONS /dev/shm 2>/dev/null | grep -qw noexec \
        && [ "$(df --output=avail -k /dev/shm 2>/dev/null | tail -1)" -gt 1048576 ] 2>/dev/null; then
        export TMPDIR=/dev/shm
    fi
    # mmdebstrap works in a folder of this script's own (global, so the traps still see it) and runs in
    # the background, so that a stop (INT, TERM, HUP) is handled at once: mmdebstrap is told and waited
    # for (it removes its rootfs), then the folder goes, with the tar and the keyring folder mmdebstrap
    # leaves when stopped early. In the foreground, a stop killed bash before its EXIT trap: the tar stayed.
    # A rootfs still there is left (rmdir fails): what a killed mmdebstrap left mounted is not removed.
    work=$(mktemp -d) making=
    trap 'rm -f "$work/base.tar"; rm -rf --one-file-system "$work"/mmdebstrap.gpghome.*; rmdir "$work"' EXIT
    trap 'stopped 2' INT; trap 'stopped 15' TERM; trap 'stopped 1' HUP
    set -m  # its own process group: a stop reaches mmdebstrap and what it runs (apt, dpkg), which it waits for
    TMPDIR=$work mmdebstrap --quiet --variant=apt \
        --include="passwd,$(paste -sd, packages.txt)" \
        --customize-hook='chroot "$1" useradd --uid 10001 --user-group --create-home lab' \
        --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin' \
        "$suite" "$work/base.tar" "${sources[@]}" &
    making=$!
    set +m
    wait "$making"
    making=
    docker import \
        --change 'ENV LANG=C.UTF-8 PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1' \
        --change 'LABEL socket-lab.base="debian"' --change "LABEL socket-lab.built-from=$BASE_RECIPE" \
        --change 'USER lab' --change 'WORKDIR /home/lab' --change 'CMD ["python3"]' \
        "$work/base.tar" "$BASE_IMAGE" >/dev/null
}

case "$BASE_FROM" in
    python) from_dockerfile ;;
    debian) from_debian ;;
    auto)
        if docker image inspect "$PYTHON_IMAGE" >/dev/null 2>&1 || docker pull --quiet "$PYTHON_IMAGE" >/dev/null 2>&1; then
            from_dockerfile
        else
            echo "No $PYTHON_IMAGE here and no registry reachable: building from Debian packages instead"
            from_debian
        fi ;;
    *) die "BASE_FROM must be auto, python or debian, not '$BASE_FROM'" ;;
esac
docker run --rm "$BASE_IMAGE" python3 -c 'import sys; assert sys.version_info >= (3, 11), sys.version' \
    || die "$BASE_IMAGE has no python3 >= 3.11"
echo "Built $BASE_IMAGE"
