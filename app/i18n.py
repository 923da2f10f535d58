"""The layout's words in each language."""

from __future__ import annotations

LANGUAGE_NAMES = {"nb": "Norsk", "en": "English"}

TEXTS = {
    "nb": {
        "site": "Avatarify hjelp",
        "brand": "hjelp",
        "site_description": "Hjelp og forklaringer for Avatarify-appen.",
        "skip": "Hopp til innholdet",
        "search_label": "Søk i hjelpesidene",
        "search_placeholder": "Søk i hjelpen",
        "search_button": "Søk",
        "all_pages": "Alle hjelpesider",
        "breadcrumb": "Brødsmulesti",
        "home": "Hjelp",
        "toc_label": "Innhold på siden",
        "toc_title": "På denne siden",
        "language": "Språk",
        "index_title": "Hjelpesider",
        "index_heading": "Hjelp til Avatarify",
        "index_lead": "Her forklarer vi hvordan Avatarify lager avatarer, og hva ordene innen generativ KI betyr.",
        "index_description": "Alle hjelpesidene for Avatarify: hvordan appen virker og hva ordene betyr.",
        "search_title": "Søk",
        "search_heading": "Søk i hjelpen",
        "search_question": "Hva lurer du på?",
        "results": "{count} treff for «{query}»",
        "no_results": "Ingen treff for «{query}». Prøv et annet ord, eller se",
        "all_pages_link": "alle hjelpesidene",
        "suggestions": "Mente du en av disse?",
        "maybe": "Kanskje du ser etter en av disse?",
        "go_to_index": "Gå til alle hjelpesider",
        "fallback": "Denne siden finnes ikke på språket du ba om ennå, så den vises på norsk.",
        "errors": {
            400: ("Ugyldig adresse", "Adressen peker ikke på en hjelpeside vi kan vise. Sidenavn består av små bokstaver a–z, tall og bindestrek."),
            404: ("Fant ikke siden", "Vi har ingen hjelpeside med dette navnet. Kanskje den har flyttet, eller lenken er skrevet feil."),
            405: ("Ikke tillatt", "Hjelpesidene kan bare leses, ikke endres."),
            500: ("Noe gikk galt", "En feil hos oss hindret siden i å vises. Prøv igjen om litt."),
        },
    },
    "en": {
        "site": "Avatarify help",
        "brand": "help",
        "site_description": "Help and explanations for the Avatarify app.",
        "skip": "Skip to content",
        "search_label": "Search the help pages",
        "search_placeholder": "Search help",
        "search_button": "Search",
        "all_pages": "All help pages",
        "breadcrumb": "Breadcrumb",
        "home": "Help",
        "toc_label": "Contents of this page",
        "toc_title": "On this page",
        "language": "Language",
        "index_title": "Help pages",
        "index_heading": "Avatarify help",
        "index_lead": "How Avatarify makes avatars, and what the words of generative AI mean.",
        "index_description": "Every help page for Avatarify: how the app works and what the words mean.",
        "search_title": "Search",
        "search_heading": "Search the help",
        "search_question": "What are you looking for?",
        "results": "{count} results for “{query}”",
        "no_results": "No results for “{query}”. Try another word, or see",
        "all_pages_link": "all help pages",
        "suggestions": "Did you mean one of these?",
        "maybe": "Perhaps you are looking for one of these?",
        "go_to_index": "Go to all help pages",
        "fallback": "This page is not available in English yet, so it is shown in Norwegian.",
        "errors": {
            400: ("Invalid address", "The address does not point to a help page we can show. Page names are lower-case letters a–z, digits and hyphens."),
            404: ("Page not found", "We have no help page by that name. It may have moved, or the link may be mistyped."),
            405: ("Not allowed", "The help pages can be read, not changed."),
            500: ("Something went wrong", "An error on our side kept the page from showing. Please try again shortly."),
        },
    },
}
def texts(lang: str) -> dict:
    """The layout's words in `lang`."""
    return TEXTS[lang]

