# The help centre as a small, non-root container serving with granian.
# The base: the official image, pinned. A machine without a registry builds on a local image
# that provides the same commands (`python`, `python -m venv`): `make container-test` makes
# one from Debian's own python3 with mmdebstrap and passes it as PYTHON_IMAGE (README,
# "Operate it in a container").
ARG PYTHON_IMAGE=python:3.11.7-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /venv
WORKDIR /src
# Dependencies first, so a change to the source reuses this layer: the runtime
# dependencies named in pyproject.toml, at the versions pinned in requirements.lock.
COPY pyproject.toml requirements.lock ./
# A build machine behind a TLS-inspecting proxy passes its CA bundle as the build secret
# `build-ca` (docker build --secret id=build-ca,src=...): pip trusts it here, in this stage
# only, and no layer keeps it.
RUN --mount=type=secret,id=build-ca \
    if [ -s /run/secrets/build-ca ]; then export PIP_CERT=/run/secrets/build-ca; fi \
    && python -c "import tomllib; print(*tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies'], sep='\n')" \
        > requirements.txt \
    && /venv/bin/pip install -c requirements.lock -r requirements.txt

FROM ${PYTHON_IMAGE}
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH=/venv/bin:$PATH \
    GRANIAN_HOST=0.0.0.0 \
    GRANIAN_PORT=8000 \
    GRANIAN_WORKERS=2
# A fixed user and group, so that volumes can be given to them before the first start.
RUN groupadd --system --gid 10001 help \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin help
COPY --from=build /venv /venv
WORKDIR /srv/help
COPY wsgi.py ./
COPY app ./app
COPY templates ./templates
COPY static ./static
COPY docs ./docs
# Reader feedback goes to an SQLite file here unless DATABASE_URL names PostgreSQL: mount a
# volume on it to keep it across containers (a new named volume takes this folder's owner).
RUN mkdir instance && chown 10001:10001 instance
USER 10001:10001
EXPOSE 8000
# The port the server listens on, whatever GRANIAN_PORT says.
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('GRANIAN_PORT', '8000')}/healthz\", timeout=2)"]
STOPSIGNAL SIGTERM
CMD ["python", "-m", "app.serve"]
