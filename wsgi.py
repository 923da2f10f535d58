"""The WSGI entry point for production servers: `granian --interface wsgi wsgi:app`."""

from app import create_app

app = create_app()
