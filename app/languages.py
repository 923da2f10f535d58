"""The languages of the help centre: one record each, read by everything else.

Pages in the first language (Bokmål) are the default and the fallback for pages that
have no translation; the layout's words, Accept-Language tags, search stemmer and
OpenGraph locale of each language are here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header


@dataclass(frozen=True)
class Language:
    """One language of the pages and the layout."""

    code: str  # as `lang=` and the docs folder name it
    name: str  # in the language itself, for the language switch
    tags: tuple[str, ...]  # Accept-Language and `lang=` tags that mean it
    stemmer: str  # Snowball stemmer of the search index
    og_locale: str  # OpenGraph locale
    words: dict  # the layout's words
    english_name: str = ""  # for the authors' tools, which speak English


NB_WORDS = {
    "site": "Avatarify-hjelp",
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
    "index_lead": "Her forklarer vi metodene innen generativ KI som hjelpesidene handler om, og hva ordene betyr.",
    "index_description": "Alle hjelpesidene for Avatarify: metodene innen generativ KI og hva ordene betyr.",
    "search_title": "Søk",
    "search_heading": "Søk i hjelpen",
    "search_question": "Hva lurer du på?",
    "results": "{count} treff for «{query}»",
    "results_one": "1 treff for «{query}»",
    "results_many": "Minst {count} treff for «{query}»",
    "corrected": "Viser treff for «{corrected}».",
    "search_instead": "Søk i stedet etter «{query}»",
    "suggested": ("Mente du «", "»?"),  # around a link that searches the suggestion
    "in_section": "Avsnittet «{section}»",
    "no_results": "Ingen treff for «{query}». Prøv et annet ord, eller se",
    "all_pages_link": "alle hjelpesidene",
    "partial_heading": "Sider som nevner noe av det du spurte om",
    "partial_note": "Søket fant ikke noe sikkert svar, men disse sidene har noen av ordene dine.",
    "suggestions": "Mente du en av disse?",
    "maybe": "Kanskje du ser etter en av disse?",
    "go_to_index": "Gå til alle hjelpesider",
    "fallback": "Denne siden finnes ikke på språket du ba om ennå, så den vises på norsk.",
    "next_steps": "Neste steg",
    "see_also": "Relaterte sider",
    "in_norwegian": "på norsk",
    "found_in_other": "treff i den engelske versjonen",  # a search hit found by its other version's text
    "translation_outdated": "Den norske versjonen av denne siden er endret etter at den ble oversatt, så denne kan være utdatert.",
    "translation_outdated_link": "Les den norske versjonen",
    "reviewed": "Sist gjennomgått",
    "date": "{day}. {month} {year}",
    "months": (
        "januar",
        "februar",
        "mars",
        "april",
        "mai",
        "juni",
        "juli",
        "august",
        "september",
        "oktober",
        "november",
        "desember",
    ),
    "feedback_question": "Var denne siden nyttig?",
    "feedback_yes": "Ja",
    "feedback_no": "Nei",
    "feedback_thanks": "Takk for tilbakemeldingen!",
    "feedback_title": "Hva var galt?",
    "feedback_lead": "Fortell oss hva som manglet, så kan vi gjøre siden bedre.",
    "feedback_page": "Side",
    "feedback_reasons": "Hva passer best?",
    "feedback_reason_not_found": "Jeg fant ikke det jeg lette etter",
    "feedback_reason_unclear": "Den var vanskelig å forstå",
    "feedback_reason_wrong": "Den er feil eller utdatert",
    "feedback_reason_other": "Noe annet",
    "feedback_comment": "Vil du si mer? (valgfritt)",
    "feedback_privacy": "Ikke skriv personlige opplysninger som navn, e-post eller telefonnummer. Kommentarer slettes etter {days} dager.",
    "feedback_trap": "Nettsted",  # the field only robots fill in (hidden)
    "feedback_send": "Send",
    "feedback_support": "Trenger du hjelp med kontoen eller appen? Kontakt kundestøtte",
    "feedback_back": "Tilbake til siden",
    "chooser_title": "Velg en hjelpeside",
    "chooser_lead": "Flere hjelpesider handler om dette. Velg den som passer best.",
    "go_missing": (
        "Ingen hjelpeside her ennå",
        "Vi har ingen hjelpeside for dette stedet i appen ennå. Kanskje en av sidene under hjelper.",
    ),
    "go_found": "Sider om «{words}»",
    "errors": {
        400: (
            "Ugyldig adresse",
            "Adressen peker ikke på en hjelpeside vi kan vise. Sidenavn består av små bokstaver a–z, tall og bindestrek.",
        ),
        403: ("Ikke tillatt", "Tilbakemeldingen kom ikke fra hjelpesidene selv, så vi tok ikke imot den."),
        "go 400": (
            "Ugyldig adresse",
            "Adressen peker ikke på et sted i appen. Et sted skrives med bokstavene a–z, tall, punktum, understrek og bindestrek.",
        ),
        "feedback 400": (
            "Kunne ikke ta imot svaret",
            "Svaret var ikke fylt ut slik skjemaet ber om. Gå tilbake til siden og prøv igjen.",
        ),
        404: (
            "Fant ikke siden",
            "Vi har ingen hjelpeside med dette navnet. Kanskje siden er flyttet, eller lenken er skrevet feil.",
        ),
        405: ("Ikke tillatt", "Hjelpesidene kan bare leses, ikke endres."),
        413: ("For mye tekst", "Det du sendte, var for langt. Kommentarer kan ha opptil 1000 tegn."),
        429: ("For mange forespørsler", "Du har sendt mange forespørsler på kort tid. Vent litt og prøv igjen."),
        500: ("Noe gikk galt", "En feil hos oss hindret siden i å vises. Prøv igjen om litt."),
        503: ("Prøv igjen om litt", "Vi klarte ikke å svare på dette akkurat nå. Prøv igjen om litt."),
    },
}

EN_WORDS = {
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
    "index_lead": "The methods of generative AI the help pages are about, and what the words mean.",
    "index_description": "Every help page for Avatarify: the methods of generative AI and what the words mean.",
    "search_title": "Search",
    "search_heading": "Search the help",
    "search_question": "What are you looking for?",
    "results": "{count} results for “{query}”",
    "results_one": "1 result for “{query}”",
    "results_many": "At least {count} results for “{query}”",
    "corrected": "Showing results for “{corrected}”.",
    "search_instead": "Search instead for “{query}”",
    "suggested": ("Did you mean “", "”?"),
    "in_section": "The section “{section}”",
    "no_results": "No results for “{query}”. Try another word, or see",
    "all_pages_link": "all help pages",
    "partial_heading": "Pages that mention some of what you asked",
    "partial_note": "The search found no sure answer, but these pages have some of your words.",
    "suggestions": "Did you mean one of these?",
    "maybe": "Perhaps you are looking for one of these?",
    "go_to_index": "Go to all help pages",
    "fallback": "This page is not available in English yet, so it is shown in Norwegian.",
    "next_steps": "Next steps",
    "see_also": "Related pages",
    "in_norwegian": "in Norwegian",
    "found_in_other": "match in the Norwegian version",
    "translation_outdated": "The Norwegian version of this page has changed since it was translated; it may be out of date.",
    "translation_outdated_link": "Read the Norwegian version",
    "reviewed": "Last reviewed",
    "date": "{day} {month} {year}",
    "months": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
    "feedback_question": "Was this page helpful?",
    "feedback_yes": "Yes",
    "feedback_no": "No",
    "feedback_thanks": "Thank you for your feedback!",
    "feedback_title": "What was wrong?",
    "feedback_lead": "Tell us what was missing, and we can make the page better.",
    "feedback_page": "Page",
    "feedback_reasons": "What fits best?",
    "feedback_reason_not_found": "I did not find what I was looking for",
    "feedback_reason_unclear": "It was hard to understand",
    "feedback_reason_wrong": "It is wrong or out of date",
    "feedback_reason_other": "Something else",
    "feedback_comment": "Anything to add? (optional)",
    "feedback_privacy": "Please do not write personal details such as names, e-mail addresses or phone numbers. Comments are deleted after {days} days.",
    "feedback_trap": "Website",
    "feedback_send": "Send",
    "feedback_support": "Need help with your account or the app? Contact support",
    "feedback_back": "Back to the page",
    "chooser_title": "Choose a help page",
    "chooser_lead": "Several help pages are about this. Choose the one that fits best.",
    "go_missing": (
        "No help page here yet",
        "We have no help page for this part of the app yet. Perhaps one of the pages below helps.",
    ),
    "go_found": "Pages about “{words}”",
    "errors": {
        400: (
            "Invalid address",
            "The address does not point to a help page we can show. Page names are lower-case letters a–z, digits and hyphens.",
        ),
        403: ("Not allowed", "The feedback did not come from the help pages themselves, so it was not accepted."),
        "go 400": (
            "Invalid address",
            "The address does not point to a part of the app. Such a name is letters a–z, digits, dots, underscores and hyphens.",
        ),
        "feedback 400": (
            "Could not take your answer",
            "The answer was not filled in as the form asks. Go back to the page and try again.",
        ),
        404: ("Page not found", "We have no help page by that name. It may have moved, or the link may be mistyped."),
        405: ("Not allowed", "The help pages can be read, not changed."),
        413: ("Too much text", "What you sent was too long. Comments can be up to 1,000 characters."),
        429: ("Too many requests", "You have sent many requests in a short time. Please wait a little and try again."),
        500: ("Something went wrong", "An error on our side kept the page from showing. Please try again shortly."),
        503: ("Please try again shortly", "We could not answer this just now. Please try again shortly."),
    },
}

# Nynorsk and plain "no" readers get Bokmål: closer to what they asked for than English.
LANGUAGES = {
    "nb": Language("nb", "Norsk", ("nb", "no", "nn"), "norwegian", "nb_NO", NB_WORDS, "Norwegian"),
    "en": Language("en", "English", ("en",), "english", "en_GB", EN_WORDS, "English"),
}
CODES = tuple(LANGUAGES)  # the first is the default, and the fallback for missing pages
DEFAULT_LANGUAGE = CODES[0]
NAMES = {code: language.name for code, language in LANGUAGES.items()}  # each in its own language
TAGS = {tag: language.code for language in LANGUAGES.values() for tag in language.tags}
# Only this much of a header is read (and remembered): real ones are far shorter.
MAX_HEADER_CHARS = 256


def texts(code: str) -> dict:
    """The layout's words in the language `code`."""
    return LANGUAGES[code].words


def long_date(day: date, code: str) -> str:
    """`day` as a reader of `code` writes it: 12. mars 2026, 12 March 2026."""
    words = LANGUAGES[code].words
    return words["date"].format(day=day.day, month=words["months"][day.month - 1], year=day.year)


def language_from_header(accept_language: str) -> str:
    """The best of our languages for an Accept-Language header; the default when none fits."""
    return _language_from_header(accept_language[:MAX_HEADER_CHARS])


@lru_cache(maxsize=256)  # clients send few distinct values; each is cut to MAX_HEADER_CHARS
def _language_from_header(accept_language: str) -> str:
    # werkzeug's parser drops a header with a bad quality (q=2) and keeps a parameter such as
    # `level=1` in the tag ("en; level=1"); remembered, its cost is paid once per distinct header.
    # Its best_match is not used: it takes any exact tag before any regional one, whatever
    # their qualities, so "nb-NO,en;q=0.8" chose English. The reader's first language we have
    # wins, by quality, then as written; `*` (werkzeug puts it last: re-sorted) is the first of
    # ours the reader did not refuse with q=0.
    accepted = sorted(parse_accept_header(accept_language, LanguageAccept), key=lambda item: -item[1])
    codes = [
        (TAGS.get(tag.split(";")[0].strip().lower().replace("_", "-").split("-")[0]), tag, q) for tag, q in accepted
    ]
    refused = {code for code, _, quality in codes if code and quality <= 0}
    for code, tag, quality in codes:
        if quality > 0 and code:
            return code
        if quality > 0 and tag == "*":
            return next((code for code in CODES if code not in refused), DEFAULT_LANGUAGE)
    return DEFAULT_LANGUAGE


def language_from_param(value: str | None) -> str | None:
    """The language a `lang=` value names, or None when it names none we have."""
    if not value:
        return None
    return TAGS.get(value.strip().lower().split("-")[0])
