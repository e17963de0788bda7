"""What `dataplane exec` puts first on a program's PYTHONPATH (see dataplane/net/scapy_bridge.py).

The directory is a package only so that it ships with dataplane; the child interpreter imports its
modules as top-level modules (`sitecustomize`, `dataplane_scapy`), never through this package.
"""
