"""The topologies shipped with dataplane (installed as package data, found by name: `dataplane run line`)."""
