"""The help pages themselves: what a page is (`page`: the Page object, front matter, plain
text, categories), its sections and links, Markdown rendered to safe HTML (`rendering`),
one language's folders on disk read safely and re-read when they change, drafts kept from
readers unless in preview (`store`), every language's pages as one `library` kept on the
app, what a translation was made from and whether it drifted (`translations`), the
addresses besides slugs (`addresses`) and the launcher's read-ahead (`preload`).

It may import only the foundations (app.config, app.languages, app.observability): pages
know nothing of search, caching, readers or the web.
"""
