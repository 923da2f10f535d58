"""What every response carries and leaves behind, cache hits included: the WSGI layer with
security headers and request ids (`middleware`), each request recorded in batches as an
access line and in the metrics (`recorder`), the Prometheus `metrics`, and the process's
JSON `logs`.

It may import only app.config, app.languages and app.privacy (the access log redacts what
readers type by the same rules as the insights).
"""
