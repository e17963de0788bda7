"""The errors a P4Runtime request can end in: a gRPC status code and a message for the client."""

from __future__ import annotations

import grpc
from p4.v1 import p4runtime_pb2 as R


class P4RuntimeError(Exception):
    """A request (or one update of a Write) that cannot be done; `code` is a grpc.StatusCode."""

    def __init__(self, code: grpc.StatusCode, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def invalid(message: str) -> P4RuntimeError:
    return P4RuntimeError(grpc.StatusCode.INVALID_ARGUMENT, message)


def not_found(message: str) -> P4RuntimeError:
    return P4RuntimeError(grpc.StatusCode.NOT_FOUND, message)


def already_exists(message: str) -> P4RuntimeError:
    return P4RuntimeError(grpc.StatusCode.ALREADY_EXISTS, message)


def unimplemented(message: str) -> P4RuntimeError:
    return P4RuntimeError(grpc.StatusCode.UNIMPLEMENTED, message)


def check_exists(kind: int, exists: bool, already: str, missing: str) -> None:
    """The rule of every Write update: INSERT needs the thing absent (else ALREADY_EXISTS with `already`),
    MODIFY and DELETE need it present (else NOT_FOUND with `missing`). `kind` is an Update.Type value."""
    if kind == R.Update.INSERT and exists:
        raise already_exists(already)
    if kind != R.Update.INSERT and not exists:
        raise not_found(missing)
