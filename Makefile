# socket-lab: `make help` lists the targets and the variables they take. Each target is one call of the
# lab's own package (python3 -m socketlab TARGET, .venv's python); make's variables (make tcp ARGS=--send-str,
# make lab SERVER_PORT=40000, ...) reach it as environment variables, and it checks every one before anything runs.
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory
VENV ?= .venv
LAB = $(VENV)/bin/python -m socketlab
PYC = socketlab/__pycache__/.compiled  # the package's modules, compiled once per change (its rule, below)
# The legacy builder (what a Docker Engine without buildx has) is fine for one-file images.
export DOCKER_BUILDKIT ?= 0

# target      needs                  what it does (make help shows this column)
help:         $(VENV)/.lab $(PYC)  ## list the targets and variables
	@grep -hE '^[a-z-]+: .*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):[^#]*## /  make \1\t/' | expand -t 18
	@cat docs/variables.txt
	@$(LAB) help-line
lab:          $(VENV)/.lab $(PYC)  ## build what is missing, start server and netcat, wait until they are up
	@$(LAB) lab
start:        $(VENV)/.lab $(PYC)  ## begin the client as the lesson does: client/ClientPython.py with its first line (the lab's kept beside it)
	@$(LAB) start
tcp:          $(VENV)/.lab $(PYC)  ## the lesson's TCP client against the echo server
	@$(LAB) tcp
tls:          $(VENV)/.lab $(PYC)  ## lesson 7: the client over TLS (make lab STAGE=tls-as-printed or STAGE=tls first; ARGS=--no-check, ARGS=--ca)
	@$(LAB) tls
udp:          $(VENV)/.lab $(PYC)  ## the UDP client against nc; type the reply in `make nc`
	@$(LAB) udp
nc:           $(VENV)/.lab $(PYC)  ## attach to nc to type replies (shows what it received so far; Ctrl-P Ctrl-Q detaches)
	@$(LAB) nc
tcp-nc:       $(VENV)/.lab $(PYC)  ## the TCP client against nc listening on TCP; type the reply in `make nc`
	@$(LAB) tcp-nc
server-nc:    $(VENV)/.lab $(PYC)  ## the server lesson's check: nc as a TCP client of the server (Ctrl-D closes)
	@$(LAB) server-nc
clients:      $(VENV)/.lab $(PYC)  ## the next lesson's loop of N clients, LOOPS of them at once (N=100 LOOPS=2)
	@$(LAB) clients
upload:       $(VENV)/.lab $(PYC)  ## lesson 7: the client uploads client/test.log to the lab's RecordServer (make lab SERVER=records first)
	@$(LAB) upload
query:        $(VENV)/.lab $(PYC)  ## lesson 7: the client asks the RecordServer for the entries a filter keeps (QUERY='score>=4')
	@$(LAB) query
menu:         $(VENV)/.lab $(PYC)  ## lessons 6-7: your client's menu (start_client()) in this terminal, against the server
	@$(LAB) menu
capture:      $(VENV)/.lab $(PYC)  ## make tcp, recorded: pcap, ladder diagram naming the socket calls (SVG), HTML page in results/
	@$(LAB) capture
impair:       $(VENV)/.lab $(PYC)  ## impair the lab's network: LOSS=30 DELAY=100ms [JITTER= REORDER= DUPLICATE= DIRECTION= MODE= RATE= ON=]
	@$(LAB) impair
heal:         $(VENV)/.lab $(PYC)  ## undo make impair (and what compose.yaml declares) until make down
	@$(LAB) heal
status:       $(VENV)/.lab $(PYC)  ## what runs in the lab, what impairs its network, which compose runs it
	@$(LAB) status
logs:         $(VENV)/.lab $(PYC)  ## the server's output so far, and what nc has received
	@$(LAB) logs
exchange:     $(VENV)/.test $(PYC) ## replay one exchange of tests/exchanges.yaml on its own network (NAME=...)
	@$(LAB) exchange
check:        $(VENV)/.test $(PYC) ## judge your programs by the lessons' exchanges (SUBMISSION=DIR ONLY= POINTS=): junit.xml, results.json
	@$(LAB) check
grade:        $(VENV)/.test $(PYC) ## a class's folder (SUBMISSIONS=DIR, one folder per learner): grades.csv, grades.html
	@$(LAB) grade
gradescope:   $(VENV)/.lab $(PYC)  ## an autograder zip for Gradescope: make check's stages on one host's loopback, no Docker (RESULTS)
	@$(LAB) gradescope
down:         $(VENV)/.lab $(PYC)  ## stop the lab: containers and network go, images stay
	@$(LAB) down
clean:        $(VENV)/.lab $(PYC)  ## make down, and remove the lab's images too
	@$(LAB) clean
images:       $(VENV)/.lab $(PYC)  ## build the lab's images (only what is missing or changed)
	@$(LAB) images
base:         $(VENV)/.lab $(PYC)  ## (re)build the base image, no registry needed
	@$(LAB) base
base-proof:   $(VENV)/.lab $(PYC)  ## build base/Dockerfile's path, check its tools, remove it: base/proven (the suite rebuilds it only when base/ changed)
	@$(LAB) base-proof
loss-table:   $(VENV)/.lab $(PYC)  ## measure what random loss and delay do here (UDP delivered, TCP completed and its time)
	@$(LAB) loss-table
soak:         $(VENV)/.lab $(PYC)  ## 1000 exchanges in a row, 200 connections at once: the server's memory, files, log
	@$(LAB) soak
bench:        $(VENV)/.bench $(PYC) ## the lesson's server beside socat and ncat, and its receive size (results/)
	@$(LAB) bench
speed:        $(VENV)/.test $(PYC) ## the lab's own speed with each compose, on a copy of its own (results/)
	@$(LAB) speed
test:         $(VENV)/.test $(PYC) ## prove every exchange of the lessons (pytest, the docker SDK); leaves nothing running
	@$(LAB) test

# The project's venv: what the lab needs (.lab), what the suite adds (.test), what the bench adds (.bench),
# each from its pinned file in requirements/. The package itself is not installed: make runs it from
# this folder (python3 -m finds it here), so a first make builds nothing (a package's build cost 5 s
# of a cold make lab's venv here) and no import hook or path file costs a Python start.
PIP = $(VENV)/bin/pip install --quiet --disable-pip-version-check
$(VENV)/.lab: requirements/lab.txt
	@echo "Installing what the lab needs into $(VENV) (once)" && python3 -m venv $(VENV) && \
	  $(PIP) -r requirements/lab.txt && touch $@
$(VENV)/.test: $(VENV)/.lab requirements/test.txt
	@echo "Installing what the tests need into $(VENV) (once)" && $(PIP) -r requirements/test.txt && touch $@
$(VENV)/.bench: $(VENV)/.lab requirements/bench.txt
	@echo "Installing what the bench needs into $(VENV) (once)" && $(PIP) -r requirements/bench.txt && touch $@

# The package's modules compiled once per change of them: Python would compile them again on every make
# where PYTHONDONTWRITEBYTECODE is set (as on CI machines), 15 ms of a warm make tcp; compileall writes the
# files all the same (into socketlab's __pycache__ folders, which git ignores).
$(PYC): $(wildcard socketlab/*.py socketlab/*/*.py socketlab/*/*/*.py) | $(VENV)/.lab
	@$(VENV)/bin/python -m compileall -q socketlab && touch $@

.PHONY: help lab start tcp tls upload query menu udp nc tcp-nc server-nc clients capture impair heal status logs exchange check grade gradescope down clean images base base-proof loss-table soak bench speed test
