"""What the launcher (app/serve.py) checks of the machine before it starts granian."""

from __future__ import annotations

import errno
import socket

from app.config import ConfigError


def check_address_free(host: str, port: str) -> None:
    """ConfigError when a server already listens where this one would: granian's sockets share
    a port (SO_REUSEPORT), so a second server (an old `make run` left running) would start and
    silently answer some of the requests, with its own code and pages."""
    try:
        family, kind, _, _, address = socket.getaddrinfo(host, int(port), type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind) as probe:
            # As granian does: a port a stopped server's connections still wait on is free.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise ConfigError(f"{host}:{port} is in use by another server: stop it, or set GRANIAN_PORT") from None
    except ValueError:
        pass  # a port that is no number: granian says so
