"""Architectures: what happens around the P4 blocks (v1model)."""
