"""dataplane: a P4_16 programmable data-plane emulator."""

__version__ = "0.1.0"
