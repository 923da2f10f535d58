"""What a rendered page depends on, in one place: the layout's digest and the text of the
page in each language. Every cache of rendered pages is keyed by it, so nothing is ever
invalidated by hand."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import lru_cache
from typing import NamedTuple

from flask import Flask, current_app

from app.config import PROJECT_ROOT
from app.content.library import get_library
from app.languages import DEFAULT_LANGUAGE


class Rendition(NamedTuple):
    """A rendered form of a page or of the index: where it is kept, and whether it is current."""

    key: str  # the shared cache's key: names everything the bytes depend on
    versions: tuple[str, ...]  # of the page in each language ('' where none); () for the index
    is_fresh: Callable[[], bool]  # True while what it was made from is unchanged


def rendition(
    kind: str, lang: str, variant: str, slug: str | None = None, depends: Callable[[], tuple[str, bool]] | None = None
) -> Rendition:
    """What the `kind` ('page', 'index', 'api') of page `slug` (or of the index, without one)
    in `lang` and `variant` depends on: the layout, and the page's text in each language
    (hreflang links change when a translation comes or goes; the text holds the front
    matter, so its aliases and context keys too) or, for the index, every page a reader of
    `lang` is shown; and `depends()`, a digest of what else it shows (other pages' titles,
    say) and whether that is settled. The digest is asked again when some page has changed,
    or while it is not settled. Every cache of rendered pages is keyed by this."""
    library = get_library()
    if slug is None:
        codes = tuple(dict.fromkeys((lang, DEFAULT_LANGUAGE)))
        state = library.fingerprint(codes)
        versions: tuple[str, ...] = ()

        def is_fresh() -> bool:
            return library.fingerprint(codes) == state
    else:
        versions = library.versions(slug)
        state = ".".join(versions)
        if depends is not None:
            # The pages as they are before it is asked: a change while it is asked is seen.
            before = library.fingerprint()
            shown, settled = depends()
            state += f":{shown}"
            checked = [before if settled else ""]
            app = current_app._get_current_object()  # the front cache asks outside a request

        def is_fresh() -> bool:
            if library.versions(slug) != versions:
                return False
            if depends is None:
                return True
            now = library.fingerprint()
            if now == checked[0]:
                return True
            # Some page changed, and what this one shows of others may have. A stale rendition
            # stays stale: the front cache and the view both ask.
            with app.app_context():
                again, settled = depends()
            if again != shown:
                return False
            if settled:
                checked[0] = now
            return True

    key = f"{kind}:{current_app.extensions['layout_version']}:{lang}:{slug or ''}:{state}:{variant}"
    return Rendition(key, versions, is_fresh)


def init_app(app: Flask) -> None:
    """Digest the layout once: the cache keys of every rendered page carry it, and the
    settings that show in pages (canonical links; the links into the app a page may keep; the
    preview's reload script)."""
    app.extensions["layout_version"] = layout_digest(
        app.config["PUBLIC_BASE_URL"],
        " ".join(sorted(app.config["APP_URL_SCHEMES"])),
        "preview" if app.config["PREVIEW"] else "",  # a preview's pages carry its reload script
    )


@lru_cache(maxsize=8)  # the files are read once per process, as a worker builds one app
def layout_digest(*settings: str) -> str:
    """A digest of the templates, stylesheets, icons and code, and of `settings` that show in
    pages: cache keys carry it, so a new layout never meets pages rendered by the old one."""
    digest = hashlib.sha256("\0".join(settings).encode())
    for folder in ("templates", "static", "app"):
        for path in sorted((PROJECT_ROOT / folder).rglob("*")):
            if path.is_file() and path.suffix in (".html", ".css", ".svg", ".py"):
                digest.update(path.read_bytes())
    return digest.hexdigest()[:12]
