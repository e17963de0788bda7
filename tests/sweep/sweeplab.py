"""Paths the sweep tests share."""

from dataplane.locate import find_topology

# The topology of the shipped sweep tcp-loss-mtu: two hosts, two routers, a lossy link between them.
LOSSY_LINK = find_topology("lossy-link")
