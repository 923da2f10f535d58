"""The readers' HTTP surface: help pages, the index, search and old slugs (`views`), the
app's places by context key (`go`), the JSON API (`api`), error pages and the dead link's
404 (`errors`), and what search engines read (`seo`).

It may import every package below it (app.readers, app.search, app.presentation,
app.guards, app.caching, app.content and the foundations); only app.operations, the
launcher and the factory import it.
"""
