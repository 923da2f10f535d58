# The help centre as a small, non-root container serving with granian.
FROM python:3.11.7-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /venv
WORKDIR /src
# Dependencies first, so a change to the source reuses this layer: the runtime
# dependencies named in pyproject.toml, at the versions pinned in requirements.lock.
COPY pyproject.toml requirements.lock ./
RUN python -c "import tomllib; print(*tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies'], sep='\n')" \
        > requirements.txt \
    && /venv/bin/pip install -c requirements.lock -r requirements.txt

FROM python:3.11.7-slim-bookworm
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH=/venv/bin:$PATH \
    GRANIAN_HOST=0.0.0.0 \
    GRANIAN_PORT=8000 \
    GRANIAN_WORKERS=2
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin help
COPY --from=build /venv /venv
WORKDIR /srv/help
COPY wsgi.py ./
COPY app ./app
COPY templates ./templates
COPY static ./static
COPY docs ./docs
# Reader feedback goes to an SQLite file here unless DATABASE_URL names PostgreSQL: mount a
# volume on it to keep it across containers.
RUN mkdir instance && chown 10001 instance
USER 10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
STOPSIGNAL SIGTERM
CMD ["python", "-m", "app.serve"]
