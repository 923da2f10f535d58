"""For operators and authors' tooling: liveness, readiness and metrics endpoints (`health`),
`flask check-docs`, `flask lock-links` and `flask translated` (`checks`), and the author's
preview, registered only with PREVIEW on (`preview`: pages that reload on save, a page's
languages side by side), and what the launcher checks of the machine before it starts
(`startup`).

It may import every package of the app but the launcher; nothing imports it but the
launcher and the factory.
"""
