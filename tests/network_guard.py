"""A second line of defence for the air-gap promise: inside the test process, any attempt to resolve or
connect to a non-loopback address is blocked before a packet is sent, and recorded so the test fails even
if the library that tried swallowed the error."""

from __future__ import annotations

import ipaddress
import socket
import sys

violations: list[str] = []
_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", ""}


def _is_local(host: object) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    host = str(host).strip("[]")
    if host.lower() in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False  # a hostname other than localhost


def guard(event: str, args: tuple) -> None:
    """sys.addaudithook callback: raise (and record) on any non-loopback network use."""
    if event == "socket.connect" or event == "socket.sendto":
        sock, address = args[0], args[-1]
        family = getattr(sock, "family", socket.AF_INET)
        if family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple) and not _is_local(address[0]):
            violations.append(f"{event} {address!r}")
            raise ConnectionRefusedError(f"kura tests are air-gapped: blocked {event} to {address!r}")
    elif event == "socket.getaddrinfo" and not _is_local(args[0]):
        violations.append(f"{event} {args[0]!r}")
        raise socket.gaierror(f"kura tests are air-gapped: blocked name lookup of {args[0]!r}")


def install() -> None:
    sys.addaudithook(guard)
