"""Measuring the lab: make bench (the servers), make speed (the lab itself), make loss-table."""
