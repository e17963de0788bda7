"""The P4 programs shipped with dataplane (installed as package data, found by name from topologies)."""
