"""The wire between the lab's hosts: impair it (impair), record it (capture), draw it (ladder)."""
