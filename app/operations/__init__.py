"""For operators and authors' tooling: liveness, readiness and metrics endpoints (`health`)
and `flask check-docs` (`checks`).

It may import every package of the app but the launcher; nothing imports it but the
launcher and the factory.
"""
