"""Flask extensions, created unbound and bound to the app in create_app."""

from flask_caching import Cache

# Rendered pages; SimpleCache in memory unless CACHE_TYPE says otherwise.
cache = Cache()
