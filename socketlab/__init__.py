"""socket-lab's own operations: what `make` runs (python3 -m socketlab TARGET).

One concern per module:
    settings    every value a user can type, checked before it reaches anything
    target      the lab a command acts on, as one value: its checked settings and its compose
    errors      the one way to fail: a step of the lab failed (exit 1), a value refused (exit 2)
    paths       where the project, its state (.lab/) and results live
    compose     which compose runs (Compose v2 first) and the commands it is given
    topology    compose's own model of compose.yaml's services, as a container's options
    engine      the Docker Engine through the docker SDK: the lab's containers, images, labels
    api         the Engine's HTTP API with the standard library: a one-off run and the look-ups before
                it (the learner's loop, make tcp, imports no docker SDK)
    containers  the one way the lab makes a container compose does not: from a service's model, removed
                when its start fails, waited for by a named strategy (a log line, its healthcheck, a port)
    oneoff      the lab's one-off containers (a client's run, nc as a client, a wire helper)
    health      waiting for the real signal: a healthcheck, a log line (bounded)
    images      build only what a target needs (the programs themselves are mounted)
    lab/        bring the lab up, its status and logs, take it down (memory, ownership, server, commands)
    netcat      a fresh nc listener, and attaching a person to it
    client      the lesson's client (and nc as a client) against the lab
    tls         lesson 7's certificates
    learner     what the learner's own files do, read from their source (never run on the host)
    catalogue   the exchanges of tests/exchanges.yaml, played and judged on a backend:
    exchanges   containers on a bridge network of their own, or
    onehost     processes on one host's loopback (Gradescope: no Docker)
    check       make check: the catalogue's exchanges judge a learner's programs (junit, Gradescope)
    grade       make grade: a class's folder; gradescope: its autograder zip
    sweep       remove what one run made, and nothing else
    browser     the headless Chromium the suite opens capture pages in
    wire/       impairment (impair/: spec, rules, state, show), capture, the ladder diagram, lesson 7's records
    measure/    make bench, make speed, make loss-table, make soak
"""
