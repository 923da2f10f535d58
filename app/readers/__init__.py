"""What readers leave and what authors read of it: the database (`models`, `database`), who
a reader is for a day (`identity`), the group-commit writer (`group_commit`), feedback
votes and comments (`feedback`), counts of views, searches and dead links (`counting`,
`count_batches`), how long all of it is kept (`retention`), the authors' figures
(`summaries`), their list of pages with owners, reviews and translations (`upkeep`),
exports and charts (`exports`), their login (`authors`) and pages (`insights`).

It may import app.presentation, app.search, app.guards, app.caching, app.content and the
foundations; never app.web (the web layer calls into it).
"""
