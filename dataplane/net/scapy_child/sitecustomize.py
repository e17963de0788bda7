"""Started by `dataplane exec` (its directory is first on PYTHONPATH): give scapy the simulated host.

Python imports `sitecustomize` when it starts; this one hands scapy the host's interfaces and sockets
(dataplane_scapy.install), then runs the sitecustomize it hides, if there is one (Debian's Python has
one), so the interpreter is otherwise set up as usual. Only stdlib and scapy may be used here: the
child's interpreter need not have dataplane installed.
"""

import importlib
import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))


def _run_hidden_sitecustomize() -> None:
    """Import the next `sitecustomize` on the path, the one ours shadows, with ours out of the way."""
    ours = sys.modules.pop("sitecustomize", None)
    saved = list(sys.path)
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _here]
    try:
        importlib.import_module("sitecustomize")
    except ImportError as exc:
        if exc.name != "sitecustomize":
            raise
    finally:
        sys.path[:] = saved
        if ours is not None:
            sys.modules["sitecustomize"] = ours


if os.environ.get("DATAPLANE_EXEC_SOCKET"):
    import dataplane_scapy
    dataplane_scapy.install()
_run_hidden_sitecustomize()
