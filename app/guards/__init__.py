"""What keeps one client or a slow dependency from taking the server: who a request comes
from (`clients`: its network, IPv4 /32 or IPv6 /64), per-client rate limits and per-worker
work slots for searches and for requests that wait on the database (`limits`), and the
rate limits' counters in memory, bounded in number (`counters`).

It may import app.content (a dead link is limited apart) and the foundations.
"""
