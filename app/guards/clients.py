"""Who a request comes from, as rate limits, votes and insights count readers: a network.

One subscriber holds one IPv4 address (/32) or a whole IPv6 /64, so a client is its
address's network, never its headers: a client that changes its User-Agent is the same
client. An IPv4 address written as IPv6 is that IPv4 address: mapped (`::ffff:192.0.2.1`,
as a dual-stack socket or a proxy writes it), translated (`::ffff:0:192.0.2.1`, SIIT),
compatible (`::192.0.2.1`) or behind the well-known NAT64 prefix (`64:ff9b::192.0.2.1`),
so that the IPv4 readers of an IPv6-only deployment are not one client. A proxy may write
the address with a port (`192.0.2.1:5678`, `[2001:db8::1]:443`): the port is not part of
the client. Anything that is no address at all falls back to the connection's peer.
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache

from flask import request
from werkzeug.http import parse_list_header

# `[v6]:port`, `[v6]`, or `v4:port`: what proxies write besides a bare address.
_WITH_PORT = re.compile(r"\[(?P<v6>[^\]]{1,64})\](?::\d{1,5})?|(?P<v4>[0-9.]{7,15}):\d{1,5}")
# Where ProxyFix keeps what the connection said before it took X-Forwarded-For.
_PROXY_FIX_ORIGINAL = "werkzeug.proxy_fix.orig"
# An IPv4 address as ipaddress writes it (no leading zeros): its own network, unparsed.
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
IPV4 = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}")
IPV6_PREFIX = 64
MAX_REMEMBERED_HEADER = 200  # characters of X-Forwarded-For whose reading is remembered
# IPv6 networks whose last 32 bits are an IPv4 address (mapped is asked of ipaddress itself).
IPV4_IN_IPV6 = (
    ipaddress.IPv6Network("64:ff9b::/96"),
    ipaddress.IPv6Network("::ffff:0:0:0/96"),
    ipaddress.IPv6Network("::/96"),
)


def network_of(text: str | None) -> str | None:
    """The client network an address string names (`192.0.2.1`, `2001:db8::/64`), or None
    if it names no address."""
    if not text:
        return None
    text = text.strip()[:100]
    return text if IPV4.fullmatch(text) else _network_of(text)


# Parsing an IPv6 address took 17 µs (five cache hits' worth); the readers of the moment
# are few. Keyed by at most 100 characters: bounded, whatever clients send.
@lru_cache(maxsize=4096)
def _network_of(text: str) -> str | None:
    written = _WITH_PORT.fullmatch(text)
    if written:
        text = written["v6"] or written["v4"]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if address.version == 6:
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        if any(address in network for network in IPV4_IN_IPV6) and int(address) & 0xFFFFFFFF > 1:
            return str(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        # From the number, not the text: a zone (`fe80::1%eth0`) is no part of the network.
        bits = 128 - IPV6_PREFIX
        return f"{ipaddress.IPv6Address(int(address) >> bits << bits)}/{IPV6_PREFIX}"
    return str(address)


def peer_network(environ: dict, proxy_hops: int) -> str:
    """client_network of a request the response cache answers before ProxyFix runs: the
    address ProxyFix(x_for=proxy_hops) would make REMOTE_ADDR (the one the trusted proxy
    wrote) if it is one, else the peer."""
    if proxy_hops:
        forwarded = environ.get("HTTP_X_FORWARDED_FOR", "")
        # A reader's header is short and the same at each request: read once.
        read = _forwarded if len(forwarded) <= MAX_REMEMBERED_HEADER else _forwarded.__wrapped__
        found = read(forwarded, proxy_hops)
        if found:
            return found
    return network_of(environ.get("REMOTE_ADDR")) or ""


@lru_cache(maxsize=4096)
def _forwarded(forwarded: str, proxy_hops: int) -> str | None:
    """The network of the address `proxy_hops` from the end of X-Forwarded-For, as ProxyFix
    reads the header (werkzeug's parser: 2.7 µs, hence the cache)."""
    values = parse_list_header(forwarded)
    return network_of(values[-proxy_hops]) if len(values) >= proxy_hops else None


def client_network(environ: dict | None = None) -> str:
    """The network the current request (or `environ`) comes from; "" when nothing names one.

    REMOTE_ADDR is the peer, or what a trusted proxy said when TRUSTED_PROXY_HOPS is set
    (ProxyFix); a proxy's value that is no address falls back to the peer.
    """
    environ = request.environ if environ is None else environ
    found = environ.get("help.client")
    if found is None:
        found = network_of(environ.get("REMOTE_ADDR"))
        if found is None:
            peer = environ.get(_PROXY_FIX_ORIGINAL, {}).get("REMOTE_ADDR")
            found = network_of(peer) or ""
        environ["help.client"] = found
    return found
