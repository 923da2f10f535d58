"""Search over the help pages that forgives what readers type: what a query is and finds
(`query`), each language's FTS5 index and vocabulary (`index`), how pages are ranked
(`ranking`), the passage a hit shows (`passages`), typos and compounds (`spelling`), the
authors' synonyms (`synonyms`), and the search the app asks (`engine`: corrections,
languages, a cache of results).

It may import app.content and the foundations; nothing of readers, caching or the web.
"""
