# socket-lab: `make help` lists what each target does.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

# Variables a user sets on the command line, e.g. `make lab SERVER_PORT=40000 NC_FLAVOR=ncat`.
SERVER_PORT ?= 12345
NC_FLAVOR ?= openbsd
BASE_FROM ?= auto
PYTHON_IMAGE ?= python:3.12-slim
# PUBLISH=1 also publishes the server's TCP port and nc's UDP port on 127.0.0.1 (never other
# addresses), so the client can run on the host: python3 client/ClientPython.py --host 127.0.0.1
PUBLISH ?=
# The compose project; the test suite runs its own lab under another name, beside yours.
LAB_PROJECT ?= socket-lab
# CAPTURE=1 on make tcp / udp / tcp-nc records the exchange (make capture is make tcp CAPTURE=1).
CAPTURE ?=
RESULTS ?= results
# make impair: LOSS (percent), DIRECTION (in, out, both), MODE (random, nth), RATE (e.g. 1mbit),
# DELAY/REORDER/DUPLICATE (netem only), ON (server, netcat, both).
LOSS ?=
DIRECTION ?= both
MODE ?= random
RATE ?=
DELAY ?=
REORDER ?=
DUPLICATE ?=
ON ?= both
export SERVER_PORT NC_FLAVOR BASE_FROM PYTHON_IMAGE LAB_PROJECT

# Compose v2 (`docker compose`) first, Debian's docker-compose 1.29 otherwise.
COMPOSE_CLI := $(shell docker compose version >/dev/null 2>&1 && echo 'docker compose' || { command -v docker-compose >/dev/null && echo docker-compose; })
COMPOSE = $(COMPOSE_CLI) -f compose.yaml $(if $(PUBLISH),-f compose.publish.yaml) -p $(LAB_PROJECT)
# docker-compose 1.29 reports "Creating ... done" on stderr for every `run`, and a failed run's exit
# code as a bare number: keep the transcript clean.
QUIET = 2> >(grep -vE '^((Creating|Starting) $(LAB_PROJECT)[-_]|[0-9]+$$)' >&2)
# quietly COMMAND: compose's and docker build's progress only matter when they fail.
quietly = out=$$($(1) 2>&1) || { echo "$$out" >&2; exit 1; }
export COMPOSE
# wire: the network tools' environment (wire/impair.sh, wire/capture.sh).
IMPAIR = wire/impair.sh
# captured SERVICE NAME COMMAND...: COMMAND, recorded from SERVICE's network namespace when CAPTURE is set.
captured = $(if $(CAPTURE),PYTHON=$(VENV)/bin/python RESULTS=$(RESULTS) wire/capture.sh $(1) $(2) --)
# The legacy builder (what a Docker Engine without buildx has) is fine for one-file images.
export DOCKER_BUILDKIT ?= 0
VENV = .venv
# The suite mostly waits on Docker, so it runs this many tests at once (pytest-xdist), even on 2 cores.
TEST_WORKERS ?= 3

# running SERVICE: the id of the lab's running container for SERVICE (compose's own labels; quicker than compose ps).
running = $$(docker ps -q --filter label=com.docker.compose.project=$(LAB_PROJECT) --filter label=com.docker.compose.service=$(1))

# wait_healthy SERVICE: waits (30 s at most) until the service's compose healthcheck passes. It runs
# the container's own check itself, not waiting for docker's next 1 s interval to run it.
define wait_healthy
id=$(call running,$(1)); \
[ -n "$$id" ] || { echo "$(1) is not running: see make logs" >&2; exit 1; }; \
check=$$(docker inspect -f '{{index .Config.Healthcheck.Test 1}}' $$id); \
for i in $$(seq 300); do \
  docker exec $$id sh -c "$$check" >/dev/null 2>&1 && break; \
  [ "$$(docker inspect -f '{{.State.Running}}' $$id 2>/dev/null)" = true ] || { echo "$(1) stopped: make logs shows why" >&2; exit 1; }; \
  [ $$i = 300 ] && { echo "$(1) is not healthy after 30 s: see make logs" >&2; exit 1; }; \
  sleep 0.1; \
done
endef

# lab_lines: one line per lab service: its container, its address on the lab network, what it runs
# (the same with either compose, and only once each is up).
define lab_lines
for s in server netcat; do \
  id=$(call running,$$s); \
  if [ -z "$$id" ]; then printf '  %-7s not running\n' $$s; continue; fi; \
  what=$$( [ $$s = server ] && docker inspect -f 'python3 ServerPython.py {{join .Config.Cmd " "}}' $$id \
           || docker exec $$id cat /tmp/nc-command 2>/dev/null || echo nc); \
  docker inspect -f "  {{printf \"%-7s\" \"$$s\"}} {{slice .Name 1}}  {{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}  $$what" $$id; \
done
endef

# fresh_netcat: nc -l serves only its first peer, so a listener that has already heard from one
# (or has stopped) is replaced by a new one; an unused one is kept, with anyone attached to it.
define fresh_netcat
if docker exec $(call running,netcat) test ! -s /tmp/nc-received 2>/dev/null; then \
  $(call quietly,$(COMPOSE) up -d --no-deps netcat); \
else \
  $(call quietly,$(COMPOSE) up -d --no-deps --force-recreate netcat); \
fi
$(call wait_healthy,netcat)
$(IMPAIR) sync
endef

.PHONY: help check-docker base images lab tcp udp nc tcp-nc server-nc exchange status capture impair heal loss-table bench logs down clean test

help: ## list the targets and variables
	@echo "socket-lab: the Python client lesson as a lab of containers."
	@echo
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{ printf "  make %-10s %s\n", $$1, $$2 }'
	@echo
	@echo "Variables (make VAR=value ...):"
	@printf '  %-30s %s\n' \
	  "SERVER_PORT=$(SERVER_PORT)" "the port of the server and of the nc listener" \
	  "NC_FLAVOR=$(NC_FLAVOR)" "openbsd (nc -l -u 12345), traditional (nc -l -u -p 12345) or ncat" \
	  "BASE_FROM=$(BASE_FROM)" "base image: auto, python (base/Dockerfile FROM PYTHON_IMAGE) or debian (mmdebstrap)" \
	  "PYTHON_IMAGE=$(PYTHON_IMAGE)" "the Python image base/Dockerfile starts from" \
	  "PUBLISH=$(PUBLISH)" "1: publish the server (TCP) and nc (UDP) ports on 127.0.0.1 only" \
	  "ARGS=$(ARGS)" "more client flags for tcp/udp/tcp-nc, e.g. ARGS=--send-str or ARGS='--timeout 5'" \
	  "CAPTURE=$(CAPTURE)" "1: make tcp/udp/tcp-nc also record the exchange (pcap + ladder diagram in RESULTS=$(RESULTS))"

check-docker:
	@[[ "$(SERVER_PORT)" =~ ^[0-9]{1,5}$$ ]] && (( $(SERVER_PORT) >= 1 && $(SERVER_PORT) <= 65535 )) \
	  || { echo "bad SERVER_PORT '$(SERVER_PORT)': give a number from 1 to 65535" >&2; exit 1; }
	@[[ "$(NC_FLAVOR)" =~ ^(openbsd|traditional|ncat)$$ ]] || { echo "bad NC_FLAVOR '$(NC_FLAVOR)': give openbsd, traditional or ncat" >&2; exit 1; }
	@docker info >/dev/null 2>&1 || { echo "Docker Engine is not reachable: start it (docker info says why)" >&2; exit 1; }
	@[ -n "$(COMPOSE_CLI)" ] || { echo "no compose: install the Docker Compose plugin or docker-compose" >&2; exit 1; }

base: check-docker ## (re)build the base image socket-lab/base, no registry needed
	@base/build.sh

# The program images a target needs, rebuilt from their folders every time: a cached build takes a
# few hundredths of a second, an edited file about one second, and no stale image hides an edit.
# The image an edit replaces is removed (or, while a container still uses it, by make down).
# make tcp builds the client's image while compose (re)starts the server.
# build IMAGE: (re)builds socket-lab/IMAGE from its folder.
define build
old=$$(docker image inspect -f '{{.Id}}' socket-lab/$(1) 2>/dev/null || true); \
$(call quietly,docker build --tag socket-lab/$(1) $(1)); \
[ -z "$$old" ] || [ "$$old" = "$$(docker image inspect -f '{{.Id}}' socket-lab/$(1))" ] || docker image rm $$old >/dev/null 2>&1 || true
endef
IMAGES = server client netcat
server-nc: IMAGES = server netcat
tcp: IMAGES = server
$(if $(CAPTURE),tcp udp tcp-nc: $(VENV)/.installed)
udp tcp-nc: IMAGES = netcat client
images: check-docker
	@docker image inspect socket-lab/base >/dev/null 2>&1 || base/build.sh
	@for p in $(IMAGES); do $(call build,$$p); done

lab: images ## build what is missing, start server and netcat, wait until they are up
	@$(call quietly,$(COMPOSE) up -d --remove-orphans)
	@$(call wait_healthy,server)
	@$(call fresh_netcat)
	@$(IMPAIR) sync
	@$(call lab_lines)
	@echo
	@$(IMPAIR) wanted | sed 's/^/Impairment on /'
	@[ -z "$(PUBLISH)" ] || echo "Published on 127.0.0.1 only: TCP $(SERVER_PORT) (server); UDP $(SERVER_PORT) (nc). Give PUBLISH=1 to every make command (or export it) to keep them."
	@echo "The lab is up: server (python3 ServerPython.py, TCP port $(SERVER_PORT)), netcat (nc flavour $(NC_FLAVOR), UDP port $(SERVER_PORT))."
	@echo "Next:"
	@echo "  make tcp     the lesson's TCP client against the server"
	@echo "  make udp     the UDP client against nc; then in another terminal"
	@echo "  make nc      see 'Hello, world', type a reply + Enter (detach: Ctrl-P Ctrl-Q)"
	@echo "  make down    stop it all"

tcp: images ## the lesson's TCP client against the echo server
	@( $(call build,client) ) & client=$$!; \
	 $(call quietly,$(COMPOSE) up -d server); \
	 wait $$client
	@$(call wait_healthy,server)
	@$(IMPAIR) sync
	@$(call captured,server,tcp) $(COMPOSE) run --rm client $(ARGS) $(QUIET)

udp: images ## the UDP client against nc; type the reply in `make nc`
	@$(call fresh_netcat)
	@$(call captured,netcat,udp) $(COMPOSE) run --rm client --udp --host netcat $(ARGS) $(QUIET)

tcp-nc: export NC_MODE = tcp
tcp-nc: images ## the TCP client against nc listening on TCP; type the reply in `make nc`
	@$(call fresh_netcat)
	@$(call captured,netcat,tcp-nc) $(COMPOSE) run --rm client --host netcat $(ARGS) $(QUIET)

nc: ## attach to nc to type replies (shows what nc received so far; detach: Ctrl-P Ctrl-Q)
	@id=$(call running,netcat); [ -n "$$id" ] || { echo "netcat is not running: make lab" >&2; exit 1; }; \
	 echo "[attached to nc: type a reply and press Enter; Ctrl-P Ctrl-Q detaches]" >&2; \
	 docker exec $$id cat /tmp/nc-received 2>/dev/null || true; \
	 docker attach $$id || { [ "$$(docker inspect -f '{{.State.Running}}' $$id 2>/dev/null)" = true ] && echo "[detached: nc keeps listening]" >&2; }

server-nc: images ## the server lesson's check: nc as a TCP client of the server (Ctrl-D closes)
	@$(call quietly,$(COMPOSE) up -d server)
	@$(call wait_healthy,server)
	@$(IMPAIR) sync
	@$(COMPOSE) run --rm --entrypoint nc.openbsd netcat -N server $(SERVER_PORT) $(QUIET)

exchange: images $(VENV)/.installed ## replay one exchange of tests/exchanges.yaml on its own network (NAME=...; no NAME lists them)
	@TESTCONTAINERS_RYUK_DISABLED=true $(VENV)/bin/python tests/labkit.py $(NAME)

bench: images $(VENV)/.installed ## measure the lesson's server beside socat and ncat, its receive size, and the lab itself (results/)
	@$(VENV)/bin/python bench/bench.py --results $(RESULTS) $(BENCH_ARGS)

status: ## what runs in the lab, and what impairs its network now
	@$(call lab_lines)
	@$(IMPAIR) show

capture: ## make tcp, recorded: pcap and ladder diagram (SVG) in results/
	@$(MAKE) tcp CAPTURE=1

impair: ## impair the lab's network: LOSS=30 [DIRECTION=in|out|both MODE=random|nth RATE=1mbit ON=server|netcat]
	@[ -n "$(LOSS)$(RATE)$(DELAY)$(REORDER)$(DUPLICATE)" ] || { echo "make impair: say what, e.g. make impair LOSS=30 or RATE=1mbit" >&2; exit 1; }
	@$(IMPAIR) set "$(strip $(if $(LOSS),loss=$(LOSS)) direction=$(DIRECTION) mode=$(MODE) $(if $(RATE),rate=$(RATE)) $(if $(DELAY),delay=$(DELAY)) $(if $(REORDER),reorder=$(REORDER)) $(if $(DUPLICATE),duplicate=$(DUPLICATE)) on=$(ON))"

loss-table: lab ## measure what random loss does here (UDP delivered, TCP completed and its time), as a table
	@wire/loss_table.sh

heal: ## undo make impair (and what compose.yaml declares) until make down
	@$(IMPAIR) heal

# (docker logs holds back nc's last partial line, so nc's part is what it has received, from its file)
logs: ## the server's output so far, and what nc has received
	@for s in server netcat; do \
	   id=$$(docker ps -aq --filter label=com.docker.compose.project=$(LAB_PROJECT) --filter label=com.docker.compose.service=$$s); \
	   [ -n "$$id" ] || { echo "$$s: not running"; continue; }; \
	   name=$$(docker inspect -f '{{slice .Name 1}}' $$id); \
	   if [ $$s = server ]; then echo "--- server ($$name) ---"; docker logs $$id 2>&1; \
	   else echo "--- what nc received ($$name) ---"; got=$$(docker exec $$id cat /tmp/nc-received 2>/dev/null || true); \
	        echo "$${got:-(nothing yet)}"; fi; \
	 done

down: ## stop the lab: containers and network go, images stay
	@$(call quietly,$(COMPOSE) --profile client --profile tools down --remove-orphans --timeout 5)
	@rm -rf .lab/$(LAB_PROJECT)
	@docker image prune --force --filter label=socket-lab.base >/dev/null
	@echo "The lab is down: its containers and network are removed (images stay: make clean removes them)."

clean: down ## `make down` and remove the lab's images too
	@docker image rm -f socket-lab/server socket-lab/client socket-lab/netcat socket-lab/base socket-lab/base-dockerfile >/dev/null 2>&1 || true

$(VENV)/.installed: pyproject.toml
	@python3 -m venv $(VENV)
	@$(VENV)/bin/pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $@

# Ryuk (testcontainers' reaper) needs a registry: it is off, and what the suite made is swept here
# after pytest, whatever its outcome (a pass, a failure, Ctrl-C).
test: images $(VENV)/.installed ## run every exchange of the lesson as a test (pytest + testcontainers)
	@status=0; TESTCONTAINERS_RYUK_DISABLED=true $(VENV)/bin/pytest -n $(TEST_WORKERS) $(PYTEST_ARGS) || status=$$?; \
	 $(VENV)/bin/python tests/labkit.py --sweep; exit $$status
