"""The error raised by control-plane operations that cannot be carried out.

Tables, externs and the device API raise ControlPlaneError (or a subclass)
with a message meant for the user; the loaders, the STF runner and the
command line turn it into a diagnostic with the position of the request."""


class ControlPlaneError(Exception):
    pass
