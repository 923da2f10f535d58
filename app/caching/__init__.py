"""Answers kept so that they are made once: the full-page response cache and the HTTP
caching rules (`responses`), Accept-Encoding (`encoding`), rendered fragments in
flask-caching (`fragments`) signed when they live in Redis (`signed_redis`), and what a
rendered page depends on (`keys`: the layout's digest and the pages' versions).

It may import app.content and the foundations; it knows nothing of search, readers or
the web.
"""
