"""Who a request comes from: the same client for a request the response cache answers
before ProxyFix runs (page views) as for one that reaches Flask (votes, searches, limits)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.middleware.proxy_fix import ProxyFix

from app.guards.clients import client_network, peer_network

PEERS = ["192.0.2.1", "2001:db8:1:2::7", "::ffff:192.0.2.9", "127.0.0.1"]
FORWARDED = [
    None,
    "",
    "198.51.100.4",
    "203.0.113.9, 198.51.100.4",
    "evil, 198.51.100.4",
    "198.51.100.4, evil",
    "198.51.100.4:5678",
    "[2001:db8:9:9::1]:443",
    "2001:db8:9:9::2, 2001:db8:9:9::3",
    "::ffff:198.51.100.5",
    '"198.51.100.6, 198.51.100.7", 198.51.100.8',
    '"unclosed, 198.51.100.8',
    "999.1.1.1",
    "١.١.١.١",
    "01.2.3.4",
    "198.51.100.4,\x1f",
    " , , ",
    "198.51.100.4," * 50,
]


def after_proxy_fix(environ: dict, hops: int) -> str:
    """client_network as Flask's side sees the request: behind ProxyFix when hops are trusted."""
    seen = {}

    def app(environ, start_response):
        seen["client"] = client_network(environ)
        return []

    (ProxyFix(app, x_for=hops) if hops else app)(dict(environ), lambda *args: None)
    return seen["client"]


@pytest.mark.parametrize("hops", [0, 1, 2])
@pytest.mark.parametrize("forwarded", FORWARDED)
@pytest.mark.parametrize("peer", PEERS)
def test_the_fast_path_sees_the_client_flask_sees(peer, forwarded, hops):
    environ = {"REMOTE_ADDR": peer}
    if forwarded is not None:
        environ["HTTP_X_FORWARDED_FOR"] = forwarded
    assert peer_network(environ, hops) == after_proxy_fix(environ, hops)


PARTS = st.sampled_from(
    [
        "198.51.100.4",
        "2001:db8::1",
        "[2001:db8::2]:80",
        "10.0.0.1:5",
        "evil",
        "",
        " ",
        '"',
        "256.1.1.1",
        "\x1f",
        "٣.١.١.١",
    ]
)


@settings(max_examples=400, deadline=None)
@given(
    parts=st.lists(st.one_of(PARTS, st.text(max_size=12)), max_size=6),
    peer=st.sampled_from(PEERS),
    hops=st.integers(min_value=0, max_value=3),
)
def test_any_forwarded_header_gives_the_client_flask_sees(parts, peer, hops):
    environ = {"REMOTE_ADDR": peer, "HTTP_X_FORWARDED_FOR": ",".join(parts)}
    assert peer_network(environ, hops) == after_proxy_fix(environ, hops)
