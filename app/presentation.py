"""How a request wants pages shown (language, embedded or not, theme), the links that keep
it, and what the shared layout needs to show it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from urllib.parse import urlencode

from flask import current_app, request, url_for

from app.content.library import get_library, remembered
from app.content.links import with_page_links
from app.content.page import Page, categories
from app.languages import CODES, DEFAULT_LANGUAGE, LANGUAGES, language_from_header, language_from_param

THEMES = frozenset({"dark", "light"})


@dataclass(frozen=True)
class Presentation:
    """How a request wants pages shown: language, embedded in the app or not, theme."""

    lang: str  # the reader's language: the layout's words, and the pages when they exist
    explicit_lang: bool  # chosen by `lang=` (kept in links) rather than by Accept-Language
    embed: bool
    theme: str | None
    thanks: bool = False  # a page just voted on (`takk=1`): thanks where the question was

    @classmethod
    def of_request(cls) -> Presentation:
        """Read `lang`, `embed` and `theme`; values that mean nothing are ignored."""
        chosen = language_from_param(request.args.get("lang"))
        theme = request.args.get("theme")
        return cls(
            lang=chosen or language_from_header(request.headers.get("Accept-Language", "")),
            explicit_lang=chosen is not None,
            embed=request.args.get("embed") in ("1", "true"),
            theme=theme if theme in THEMES else None,
            thanks="doc" in request.args and request.args.get("takk") == "1",
        )

    def link_args(self) -> dict[str, str]:
        """The parameters every internal link carries, in their canonical order."""
        args = {}
        if self.explicit_lang:
            args["lang"] = self.lang
        if self.embed:
            args["embed"] = "1"
        if self.theme:
            args["theme"] = self.theme
        return args

    def query(self, **first: str) -> str:
        """The canonical query string for a URL showing this presentation (thanks last: links
        from the page do not carry it)."""
        query = urlencode({**first, **self.link_args()})
        return f"{query}&takk=1" if self.thanks else query

    def cache_key(self, **first: str) -> str:
        """The response cache key: the canonical query, and the negotiated language if not in
        it (what `negotiated_language` adds to a request's query on the fast path)."""
        return f"{self.query(**first)}|{'' if self.explicit_lang else self.lang}"

    @property
    def variant(self) -> str:
        return f"{self.lang}:{int(self.explicit_lang)}:{int(self.embed)}:{self.theme or ''}:{int(self.thanks)}"


def negotiated_language(environ) -> str:
    """The response cache key's suffix on the fast path: the Accept-Language choice, unless
    `lang=` decides (see Presentation.cache_key)."""
    if "lang=" in environ.get("QUERY_STRING", ""):
        return ""
    return language_from_header(environ.get("HTTP_ACCEPT_LANGUAGE", ""))


def carry_args(html: str, presentation: Presentation) -> str:
    """Add the reader's lang, embed and theme to every internal link in a rendered page (a
    page, the index, a search). The reader's embed and theme win over a link's own; a
    language the link names stays (a blank one does not count)."""
    args = presentation.link_args()
    if not args:
        return html

    def carried(path: str, parameters: list[tuple[str, str]], anchor: str) -> str:
        kept = [(name, value) for name, value in parameters if name not in args or (name == "lang" and value)]
        named = {name for name, _ in kept}
        kept += [(name, value) for name, value in args.items() if name not in named]
        return f"{path}?{urlencode(kept)}" + (f"#{anchor}" if anchor else "")

    return with_page_links(html, carried)


def layout_context(presentation: Presentation, here: dict[str, str], endpoint: str = "help.docs") -> dict:
    """What base.html needs: words, language, theme, links that keep the presentation (the
    language switch leads to `endpoint` with `here`)."""
    args = presentation.link_args()
    switch = {k: v for k, v in args.items() if k != "lang"}
    return {
        "t": LANGUAGES[presentation.lang].words,
        "lang": presentation.lang,
        "og_locale": LANGUAGES[presentation.lang].og_locale,
        "presentation": presentation,
        "preview": current_app.config["PREVIEW"],  # an author's preview: pages reload themselves
        "link_args": args,
        "untranslated": untranslated(presentation.lang),  # shown in Norwegian: marked in lists
        "languages": [(code, LANGUAGES[code].name, url_for(endpoint, **here, lang=code, **switch)) for code in CODES],
    }


def page_groups(lang: str) -> list[tuple[str, list[Page]]]:
    """The pages a reader of `lang` is shown, by category in the configured order: a page
    not yet translated under the category its translated neighbours use for its own."""
    names = category_names(lang)
    shown = [
        page if code == lang or page.category not in names else replace(page, category=names[page.category])
        for page, code in get_library().pages_in(lang).values()
    ]
    return categories(shown, current_app.config["CATEGORY_ORDER"])


def category_names(lang: str) -> dict[str, str]:
    """Each Norwegian category's name in `lang`: the one most of its translated pages give."""
    if lang == DEFAULT_LANGUAGE:
        return {}

    def make() -> dict[str, str]:
        originals = {page.slug: page for page in get_library().stores[DEFAULT_LANGUAGE].pages()}  # no stat each
        pairs = Counter(
            (original.category, page.category)
            for page in get_library().stores[lang].pages()
            if (original := originals.get(page.slug)) is not None
        )
        names: dict[str, str] = {}
        for (category, name), _ in pairs.most_common():
            names.setdefault(category, name)
        return names

    return remembered(("category names", lang), make)


def category_shown(page: Page, content_lang: str, lang: str) -> str:
    """The category a reader of `lang` sees a page under, shown in `content_lang`."""
    return page.category if content_lang == lang else category_names(lang).get(page.category, page.category)


@dataclass(frozen=True)
class Untranslated:
    """What a reader of a language other than Norwegian is shown in Norwegian: marked in lists."""

    slugs: frozenset[str] = frozenset()  # pages with no version in the reader's language
    categories: frozenset[str] = frozenset()  # their categories no translated page names


def untranslated(lang: str) -> Untranslated:
    """The pages and category names a reader of `lang` is shown in Norwegian."""
    if lang == DEFAULT_LANGUAGE:
        return Untranslated()

    def make() -> Untranslated:
        shown = [page for page, code in get_library().pages_in(lang).values() if code != lang]
        names, own = category_names(lang), {page.category for page in get_library().stores[lang].pages()}
        return Untranslated(
            frozenset(page.slug for page in shown),
            frozenset(page.category for page in shown if page.category not in names) - own,
        )

    return remembered(("untranslated", lang), make)


def canonical_url(path: str) -> str | None:
    """The absolute URL of `path` on the public site, when PUBLIC_BASE_URL says where that is.

    Never built from the request's Host header: pages are cached and shared, and a forged
    host must not end up in them.
    """
    base = current_app.config["PUBLIC_BASE_URL"]
    return f"{base}{path}" if base else None
