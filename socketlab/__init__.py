"""socket-lab's own operations: what `make` runs (python3 -m socketlab TARGET).

One concern per module:
    settings    every value a user can type, checked before it reaches anything
    paths       where the project, its state (.lab/) and results live
    compose     which compose runs (Compose v2 first) and the commands it is given
    engine      the Docker Engine: the lab's containers, images, labels
    health      waiting for the real signal: a healthcheck, a log line (bounded)
    images      build only what a target needs (the programs themselves are mounted)
    lab/        bring the lab up, its status and logs, take it down (memory, ownership, server, commands)
    netcat      a fresh nc listener, and attaching a person to it
    client      the lesson's client (and nc as a client) against the lab
    exchanges   the catalogue of exchanges (tests/exchanges.yaml), played on a network of their own
    learner     what the learner's own files do, read from their source (never run on the host)
    check       make check: the catalogue's exchanges judge a learner's programs (junit, Gradescope)
    sweep       remove what one run made, and nothing else
    wire/       impairment (impair/: spec, rules, state, show), capture, the ladder diagram, lesson 7's records
    measure/    make bench, make speed, make loss-table
"""
