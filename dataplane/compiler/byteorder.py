"""``int.from_bytes(b)`` and ``x.to_bytes(n)`` without ``'big'`` where that is the default: a pass over the
generated fast().

The code generator writes the byte order out (``int_from_bytes(data[14:34], 'big')``,
``x.to_bytes(34, 'big')``) because Python 3.10 requires it. From Python 3.11 on it defaults to 'big', and
passing it costs about 115 instructions a call (the argument is parsed and compared by name): the
router's fast() makes four or five such calls a packet. The generated module is compiled and run by the
interpreter that generates it, so the argument is dropped when that interpreter is 3.11 or later, and
this is the one place that decides it; the passes before this one see the 'big' the code generator wrote.
"""

from __future__ import annotations

import ast
import sys

from .parsers import FROM_BYTES

# Whether the interpreter running (and so generating) the code takes 'big' as the default byte order.
BIG_IS_DEFAULT = sys.version_info >= (3, 11)


def drop_default_byteorder(fn: ast.FunctionDef, big_is_default: bool = BIG_IS_DEFAULT) -> None:
    """Remove the trailing 'big' of every int_from_bytes / int.from_bytes / .to_bytes call in fn, if
    big_is_default."""
    if not big_is_default:
        return
    for node in ast.walk(fn):
        if isinstance(node, ast.Call) and _byteorder_is_second_argument(node.func) and len(node.args) == 2 \
                and not node.keywords and isinstance(node.args[1], ast.Constant) and node.args[1].value == "big":
            del node.args[1]


def _byteorder_is_second_argument(func) -> bool:
    """Whether func is int.from_bytes (or the module's binding of it) or a to_bytes method: the calls
    whose second positional argument is the byte order. Only ints have a to_bytes method in the
    generated code."""
    if isinstance(func, ast.Name):
        return func.id == FROM_BYTES
    if isinstance(func, ast.Attribute):
        return func.attr == "to_bytes" or (
            func.attr == "from_bytes" and isinstance(func.value, ast.Name) and func.value.id == "int")
    return False
