"""Runs inside the NET_ADMIN impairment helper (compose services impair-server / impair-netcat, which
share the server's or nc's network namespace): the commands socketlab.wire.impair built, each an
argv list (no shell), given as one JSON argument. Prints a JSON list of each command's exit code and
output; exits 1 if a command that must succeed failed.

    python3 helper.py '[[["iptables", "-N", "SOCKET_LAB_IN"], true], ...]'   (true: must succeed)
"""
import json
import subprocess
import sys

results, failed = [], False
for argv, must in json.loads(sys.argv[1]):
    done = subprocess.run(argv, capture_output=True, text=True)
    results.append({'argv': argv, 'code': done.returncode, 'out': done.stdout + done.stderr})
    failed = failed or (must and done.returncode != 0)
print(json.dumps(results))
sys.exit(1 if failed else 0)
