"""Opening the files users name, safely: regular files only, read within a limit.

A topology, program, capture or control-plane file may come from a stranger;
`/dev/zero` or a FIFO given for one must be refused, not read until memory
runs out or waited on forever. Problems that have no line (a device, a
damaged binary file) are located at the whole file: ``path: error: ...``.
"""

from __future__ import annotations

import os
import stat

from .diagnostics import SourceFile, Span, error

READ_CHUNK = 1 << 20


class FileSpan(Span):
    """A whole file as a location, for problems that have no line (a device given for a file, a damaged
    binary file): the message reads ``path: error: ...``."""

    def __str__(self) -> str:
        return self.path


def whole_file(path: str) -> Span:
    return FileSpan(SourceFile(path, ""), 1, 1, 1, 1)


def open_regular_file(path: str, span: Span | None = None):
    """Open a file for reading in binary; anything but a regular file is a user error (reading /dev/zero or
    a FIFO would never end). `span` is where the file was named, if it was named in another file."""
    try:
        # Without O_NONBLOCK, opening a FIFO waits for a writer, before we could look at what it is.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise error(f"cannot open '{path}': no such file", span) from None
    except IsADirectoryError:
        raise error(f"cannot open '{path}': it is a directory", span) from None
    except OSError as exc:
        raise error(f"cannot open '{path}': {exc.strerror or exc}", span) from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        if stat.S_ISDIR(mode):
            raise error(f"cannot open '{path}': it is a directory", span)
        raise error(f"'{path}' is not a regular file" if span is not None else "not a regular file",
                    span or whole_file(path))
    return os.fdopen(fd, "rb")


def read_limited(f, limit: int) -> bytes:
    """Up to limit + 1 bytes of an open binary file, read in chunks (one read of `limit` bytes would
    allocate all of them at once, however small the file): more than `limit` means the file is too long."""
    chunks, total = [], 0
    while total <= limit:
        chunk = f.read(min(READ_CHUNK, limit + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)
