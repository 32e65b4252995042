"""Breaks the lab's wire on purpose: loss (iptables' statistic match) and rate (a tbf qdisc) inside the
server's and nc's network namespaces, applied by the compose helpers impair-server / impair-netcat,
which alone hold NET_ADMIN. Delay, jitter, reorder and duplicate (on the container's outgoing packets)
use the kernel's netem where it has one; where not, an NFQUEUE rule hands those packets to
socketlab/wire/nfqueue.py in the helper queue-SERVICE, which holds them in user space. The rule is
fail-open (--queue-bypass): without that program running, packets pass undelayed.

An impairment is written as words, e.g. "loss=30 direction=in mode=nth rate=1mbit on=server", by
`make impair` (LOSS=, DIRECTION=, ...) or declared on a service in compose.yaml (its socket-lab.impair
label, or SERVER_IMPAIR / NETCAT_IMPAIR). Every word is checked here; the helper gets argv lists.

What is wanted lives in .lab/PROJECT/impair.json (make down removes it); without it, each service's
label, applied by make lab to each new container.

Its rooms: spec (the words, checked; no Docker), rules (the argv lists, as data), state (applied, kept,
synced to new containers), show (make status's lines).
"""
from .spec import DURATION, NONE, QUEUED, SERVICES, Impairment, milliseconds  # noqa: F401
from .state import delay_beside, heal, mechanism, set_, sync, wanted, wanted_lines  # noqa: F401
from .show import show  # noqa: F401
