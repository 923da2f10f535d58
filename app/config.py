"""Settings: defaults, read from the environment when an app is made, and checked."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from limits import parse_many
from werkzeug.security import generate_password_hash

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Config:
    """The defaults; each text setting may be overridden by the environment variable of its name."""

    # Folder of Markdown help pages.
    DOCS_DIR = str(PROJECT_ROOT / "docs")
    # flask-caching backend for rendered pages: SimpleCache (in memory) or RedisCache.
    CACHE_TYPE = "SimpleCache"
    # Most rendered pages kept by SimpleCache before it evicts.
    CACHE_THRESHOLD = "1000"
    # Seconds a rendered page is kept; keys carry the file version, so 0 (forever) is safe.
    CACHE_DEFAULT_TIMEOUT = "0"
    # Most pages the full-page response cache in each worker keeps, with their encodings.
    RESPONSE_CACHE_ENTRIES = "1000"
    CACHE_REDIS_URL = "redis://127.0.0.1:6379/0"
    # Signs every value in Redis (HMAC-SHA256), so a value someone else wrote there is
    # never served: at least 32 characters, the same on every replica. Required with RedisCache.
    CACHE_SIGNING_KEY = ""
    # Most bytes of pages the response cache in each worker keeps (with RESPONSE_CACHE_ENTRIES).
    RESPONSE_CACHE_BYTES = str(64 * 1024 * 1024)
    # Per client (a keyed hash of its network): searches, and requests for pages that do not
    # exist. Sized for mobile carriers, which put many readers behind one IPv4 address
    # (carrier-grade NAT): they stop one client, while the work slots below keep the capacity.
    SEARCH_RATE_LIMIT = "60/10 seconds;2000/hour"
    NOT_FOUND_RATE_LIMIT = "120/minute"
    # Per client: suggestions while typing (one a keystroke; each a few binary searches).
    SUGGEST_RATE_LIMIT = "100/10 seconds;5000/hour"
    # Where rate-limit counts live: memory:// (each worker its own) or a redis:// URL shared by replicas.
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_ENABLED = "true"
    # Searches (and 404 suggestions) one worker runs at once; past it a search gets 503 at once.
    EXPENSIVE_WORK_SLOTS = "2"
    # Requests one worker lets wait on the database at once (votes, the authors' pages); past it
    # they get 503 at once, so a locked or unreachable database never holds the threads pages need.
    DATABASE_SLOTS = "2"
    # A rate-limit store that fails never fails a request: each worker counts alone meanwhile.
    RATELIMIT_SWALLOW_ERRORS = True
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    # Proxies in front that set X-Forwarded-For (0: none; the client is the connection's peer).
    TRUSTED_PROXY_HOPS = "0"
    # Scheme and host the site is reached at, for canonical links (e.g. https://hjelp.example.no).
    PUBLIC_BASE_URL = ""
    LOG_LEVEL = "info"
    # json (one object per line) or text.
    LOG_FORMAT = "json"
    # Who may show the pages in a frame: CSP frame-ancestors sources, e.g. 'self' https://app.example.
    FRAME_ANCESTORS = "'none'"
    # Strict-Transport-Security max-age; 0 sends no HSTS header (set it when served over HTTPS only).
    HSTS_SECONDS = "0"
    # Origins (scheme://host[:port], space-separated) whose pages may read the JSON API (CORS).
    API_ALLOWED_ORIGINS = ""
    # URL schemes (space-separated, e.g. avatarify) that links into the app itself may use in a
    # page: the sanitizer keeps those links, marked for the app's web view. Empty: none.
    APP_URL_SCHEMES = ""
    # Where reader feedback is stored: sqlite:///path or postgresql+psycopg://user:password@host/db.
    # Empty: an SQLite file in the instance folder.
    DATABASE_URL = ""
    # Keys the reader hashes of votes and searches (with the day's salt, which is in the
    # database), so that a copy of the database cannot test an address against them: at least
    # 32 characters, the same on every replica. Required with PostgreSQL. Empty: a random key
    # kept in a file beside the SQLite file (app/readers/identity.py).
    READER_KEY = ""
    # Days a reader's comment is kept before `flask feedback prune` (run daily by the launcher) deletes it.
    FEEDBACK_RETENTION_DAYS = "90"
    # Per client: feedback posts (the form and the API together).
    FEEDBACK_RATE_LIMIT = "10/minute;200/day"
    # Votes one client network (IPv4 address, IPv6 /64) may add to a page's tally in a day,
    # whatever its headers say: readers behind one address are told apart only this far.
    FEEDBACK_VOTES_PER_ADDRESS = "3"
    # Comments kept per day at most, all pages together: past it a vote is counted and its
    # comment dropped, so that no flood can fill the database (or bury the authors' list).
    FEEDBACK_COMMENTS_PER_DAY = "2000"
    # Where a reader who needs help is sent from the feedback form: a mailto: or https:// URL
    # (the page's slug and language are added to it). Empty: no such link.
    SUPPORT_URL = ""
    # Authors who may read /innsikt: space-separated name:hash, each hash from `flask insights
    # hash-password`. Empty: insights are off (404).
    INSIGHTS_USERS = ""
    # Failed logins to /innsikt per client.
    INSIGHTS_AUTH_RATE_LIMIT = "10/minute;50/day"
    # A search is shown to authors once this many different readers sent it on one day;
    # rarer ones are only counted in a total (and their text is deleted after their day).
    INSIGHTS_MIN_CLIENTS = "3"
    # Seconds between writes of each worker's counts (views, searches, dead links) to the database.
    INSIGHTS_FLUSH_SECONDS = "5"
    # Days searches, dead links and page views are kept for insights.
    INSIGHTS_RETENTION_DAYS = "90"
    # Different unknown slugs kept per day for the authors; requests for more are counted
    # together in one row, so that a flood of made-up links cannot fill the database.
    INSIGHTS_DEAD_LINKS_PER_DAY = "1000"
    # Different queries kept per day (all languages); searches for more are counted in the
    # day's total only, with their text never stored.
    INSIGHTS_SEARCHES_PER_DAY = "5000"
    # true: the server refuses to start while a page fails to load. false: it serves the others
    # and answers 503 for that page until it is fixed (and logs, counts and lists it in /readyz).
    STRICT_START = "false"
    # true: an author's preview (`make preview`): drafts are shown, and a help page reloads itself
    # when its file is saved. Never set in production: the launcher refuses it with a public
    # PUBLIC_BASE_URL (or address to bind) unless PREVIEW_ALLOW_PUBLIC is true as well.
    PREVIEW = "false"
    PREVIEW_ALLOW_PUBLIC = "false"
    # Static files (CSS, icons) may be cached this many seconds.
    SEND_FILE_MAX_AGE_DEFAULT = 3600
    # Categories shown first on the help index, in this order; others follow by name.
    CATEGORY_ORDER = ("Hjelpeseksjonen", "Terminologi", "Help section", "Terminology")


def from_environment(environ: Mapping[str, str] | None = None) -> dict:
    """The settings: Config's defaults, each text one replaced by its environment variable if set."""
    environ = os.environ if environ is None else environ
    settings = {}
    for name in dir(Config):
        if name.isupper():
            default = getattr(Config, name)
            settings[name] = environ.get(name, default) if isinstance(default, str) else default
    return settings


CACHE_TYPES = frozenset({"SimpleCache", "RedisCache", "NullCache"})
ORIGIN = re.compile(r"https?://[a-z0-9.-]+(?::\d{1,5})?|[a-z][a-z0-9+.-]*://[a-z0-9.-]+")
DATABASE_URL = re.compile(r"sqlite:///[^?#]*|postgresql(\+psycopg)?://[^\s]+")
SUPPORT_URL = re.compile(r"mailto:[^\s<>\"]+@[^\s<>\"]+|https://[a-z0-9.-]+(?::\d{1,5})?(/[^\s<>\"]*)?")
LOG_LEVELS = frozenset({"debug", "info", "warning", "error", "critical"})
LOG_FORMATS = frozenset({"json", "text"})
APP_URL_SCHEME = re.compile(r"[a-z][a-z0-9+.-]{1,31}")
# Schemes that are the web's own, or run script, read files or hand a link to the system
# (Android's intent:): never what a page may link to as "the app".
NOT_APP_SCHEMES = frozenset(
    "http https mailto ftp ws wss javascript vbscript livescript mocha data blob file filesystem about "
    "jar view-source chrome chrome-extension intent android-app market tel sms".split()
)
FRAME_SOURCE = re.compile(r"'self'|'none'|https?://[a-z0-9.-]+(?::\d{1,5})?|\*\.[a-z0-9.-]+|[a-z][a-z0-9+.-]*:")


MAX_RETENTION_DAYS = 36_500


class ConfigError(RuntimeError):
    """A setting with a bad value; the message names the setting and the value."""


def validate(config: dict) -> None:
    """Check and convert settings in place; raise ConfigError on the first bad one."""
    for name, minimum in (
        ("CACHE_THRESHOLD", 1),
        ("CACHE_DEFAULT_TIMEOUT", 0),
        ("RESPONSE_CACHE_ENTRIES", 1),
        ("RESPONSE_CACHE_BYTES", 1024),
        ("HSTS_SECONDS", 0),
        ("EXPENSIVE_WORK_SLOTS", 1),
        ("TRUSTED_PROXY_HOPS", 0),
        ("FEEDBACK_RETENTION_DAYS", 1),
        ("DATABASE_SLOTS", 1),
        ("FEEDBACK_VOTES_PER_ADDRESS", 1),
        ("INSIGHTS_MIN_CLIENTS", 1),
        ("INSIGHTS_RETENTION_DAYS", 1),
        ("INSIGHTS_DEAD_LINKS_PER_DAY", 1),
        ("INSIGHTS_SEARCHES_PER_DAY", 1),
        ("FEEDBACK_COMMENTS_PER_DAY", 0),
    ):
        config[name] = _whole_number(name, config[name], minimum)
    for name in ("FEEDBACK_RETENTION_DAYS", "INSIGHTS_RETENTION_DAYS"):
        if config[name] > MAX_RETENTION_DAYS:  # a day that far back is no date
            raise ConfigError(f"{name}={config[name]} is more than {MAX_RETENTION_DAYS} days (100 years)")
    config["INSIGHTS_FLUSH_SECONDS"] = _seconds("INSIGHTS_FLUSH_SECONDS", config["INSIGHTS_FLUSH_SECONDS"])
    config["RATELIMIT_ENABLED"] = _flag("RATELIMIT_ENABLED", config["RATELIMIT_ENABLED"])
    config["STRICT_START"] = _flag("STRICT_START", config["STRICT_START"])
    config["PREVIEW"] = _flag("PREVIEW", config["PREVIEW"])
    config["PREVIEW_ALLOW_PUBLIC"] = _flag("PREVIEW_ALLOW_PUBLIC", config["PREVIEW_ALLOW_PUBLIC"])
    for name in (
        "SEARCH_RATE_LIMIT",
        "SUGGEST_RATE_LIMIT",
        "NOT_FOUND_RATE_LIMIT",
        "FEEDBACK_RATE_LIMIT",
        "INSIGHTS_AUTH_RATE_LIMIT",
    ):
        try:
            if not (items := parse_many(config[name])) or any(item.amount < 1 for item in items):
                raise ValueError
        except ValueError:
            raise ConfigError(f"{name}={config[name]!r} is not a rate limit such as 30/minute;300/hour") from None
    if not str(config["RATELIMIT_STORAGE_URI"]).startswith("memory://"):
        _url("RATELIMIT_STORAGE_URI", config["RATELIMIT_STORAGE_URI"], ("redis", "rediss", "redis+unix"))
        # Workers that hash a client each their own way count it apart.
        _shared_key(config, "RATELIMIT_STORAGE_URI in Redis")
        # A Redis that hangs would hold every limited request: past this, the counts go on
        # in this worker's memory until it answers again (RATELIMIT_IN_MEMORY_FALLBACK_ENABLED).
        config.setdefault("RATELIMIT_STORAGE_OPTIONS", {"socket_timeout": 0.25, "socket_connect_timeout": 0.25})
    if config["CACHE_TYPE"] not in CACHE_TYPES:
        raise ConfigError(f"CACHE_TYPE={config['CACHE_TYPE']!r} is not one of {', '.join(sorted(CACHE_TYPES))}")
    for name, allowed in (("LOG_LEVEL", LOG_LEVELS), ("LOG_FORMAT", LOG_FORMATS)):
        config[name] = str(config[name]).lower()
        if config[name] not in allowed:
            raise ConfigError(f"{name}={config[name]!r} is not one of {', '.join(sorted(allowed))}")
    if config["CACHE_TYPE"] == "RedisCache":
        _url("CACHE_REDIS_URL", config["CACHE_REDIS_URL"], ("redis", "rediss", "unix"))
        _shared_key(config, "CACHE_TYPE=RedisCache")
        # A Redis call slower than this fails, and the page is rendered locally instead.
        config.setdefault("CACHE_OPTIONS", {"socket_timeout": 0.25, "socket_connect_timeout": 0.25})
    if config["PUBLIC_BASE_URL"]:
        _url("PUBLIC_BASE_URL", config["PUBLIC_BASE_URL"], ("http", "https"))
        config["PUBLIC_BASE_URL"] = config["PUBLIC_BASE_URL"].rstrip("/")
    elif config["TRUSTED_PROXY_HOPS"]:
        # Behind a proxy the request says neither the scheme nor the host readers use, and the
        # feedback form's same-origin check compares the browser's Origin with this.
        raise ConfigError(
            "PUBLIC_BASE_URL must be set (e.g. https://hjelp.example.no) when TRUSTED_PROXY_HOPS "
            "is: behind a proxy the request does not say the address readers use"
        )
    if config["PREVIEW"] and not config["PREVIEW_ALLOW_PUBLIC"] and looks_public(config["PUBLIC_BASE_URL"]):
        raise ConfigError(
            f"PREVIEW=true shows drafts, and PUBLIC_BASE_URL={config['PUBLIC_BASE_URL']!r} looks like the "
            "production site: preview on your own machine (make preview), or set PREVIEW_ALLOW_PUBLIC=true "
            "if readers there may see drafts"
        )
    config["INSIGHTS_USERS"] = insights_users(config["INSIGHTS_USERS"])
    if config["DATABASE_URL"] and not DATABASE_URL.fullmatch(config["DATABASE_URL"]):
        raise ConfigError("DATABASE_URL is not an sqlite:/// or postgresql+psycopg:// URL")
    if config["DATABASE_URL"] in ("sqlite:///", "sqlite:///:memory:"):
        # The migration runs in a process of its own, and each worker would have a database alone.
        raise ConfigError("DATABASE_URL must name a file for SQLite (sqlite:////path/to/feedback.db)")
    if config["READER_KEY"] and len(config["READER_KEY"]) < 32:
        raise ConfigError("READER_KEY must be at least 32 characters (e.g. `openssl rand -hex 32`)")
    if not config["READER_KEY"] and config["DATABASE_URL"].startswith("postgresql"):
        raise ConfigError(
            "READER_KEY must be set, at least 32 characters and the same on every replica, with "
            "PostgreSQL: replicas with keys of their own would count a reader once on each"
        )
    if config["SUPPORT_URL"] and not SUPPORT_URL.fullmatch(config["SUPPORT_URL"]):
        raise ConfigError(f"SUPPORT_URL={config['SUPPORT_URL']!r} is not a mailto: or https:// URL")
    sources = str(config["FRAME_ANCESTORS"]).split()
    if not sources or not all(FRAME_SOURCE.fullmatch(source) for source in sources):
        raise ConfigError(
            f"FRAME_ANCESTORS={config['FRAME_ANCESTORS']!r} is not a list of CSP sources "
            "such as 'none', 'self' or https://app.example"
        )
    origins = config["API_ALLOWED_ORIGINS"]
    origins = origins.split() if isinstance(origins, str) else list(origins)
    for origin in origins:
        if not ORIGIN.fullmatch(origin):
            raise ConfigError(f"API_ALLOWED_ORIGINS has {origin!r}, which is not an origin like https://app.example")
    config["API_ALLOWED_ORIGINS"] = frozenset(origins)
    config["APP_URL_SCHEMES"] = app_url_schemes(config["APP_URL_SCHEMES"])
    docs = Path(config["DOCS_DIR"])
    if not docs.is_dir() or not os.access(docs, os.R_OK | os.X_OK):
        raise ConfigError(f"DOCS_DIR={str(docs)!r} is not a readable folder")


LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def looks_public(url: str) -> bool:
    """Whether a base URL looks like a site readers reach: https, and not this machine."""
    parts = urlsplit(url)
    return parts.scheme == "https" and (parts.hostname or "") not in LOOPBACK_HOSTS


def app_url_schemes(setting) -> frozenset[str]:
    """APP_URL_SCHEMES (`avatarify other`) as a set of lower-case schemes; ConfigError naming
    one that is not a scheme, or that is the web's own or could run script."""
    schemes = setting.split() if isinstance(setting, str) else list(setting)
    for scheme in schemes:
        if not APP_URL_SCHEME.fullmatch(scheme.lower()) or scheme.lower() in NOT_APP_SCHEMES:
            raise ConfigError(
                f"APP_URL_SCHEMES has {scheme[:40]!r}, which is not the app's own URL scheme (such as avatarify)"
            )
    return frozenset(scheme.lower() for scheme in schemes)


# A werkzeug password hash: `scrypt:N:r:p$salt$hex` or `pbkdf2:sha256:iterations$salt$hex`.
PASSWORD_HASH = re.compile(r"(scrypt:\d+:\d+:\d+|pbkdf2:sha(?:256|512):\d+)\$[^$\s]{1,64}\$[0-9a-f]{64,128}")


@lru_cache(maxsize=8)
def hash_method_works(method: str) -> bool:
    """Whether werkzeug can hash with `method` (`scrypt:32768:8:1`): an N that is no power of
    two, or a zero, passes the pattern and fails every login. One hash, about 65 ms, per method."""
    try:
        generate_password_hash("", method=method)
    except (ValueError, OverflowError, MemoryError):
        return False
    return True


def insights_users(setting) -> dict[str, str]:
    """INSIGHTS_USERS (`name:hash name:hash`) as {name: werkzeug password hash}; ConfigError
    naming the entry for anything else (a password in clear, say)."""
    if isinstance(setting, dict):
        return setting
    users = {}
    for entry in str(setting).split():
        name, _, hashed = entry.partition(":")
        if not name or not PASSWORD_HASH.fullmatch(hashed) or not hash_method_works(hashed.split("$")[0]):
            raise ConfigError(
                f"INSIGHTS_USERS has {name or entry[:20]!r} without a werkzeug password hash "
                "(make one with `flask insights hash-password`)"
            )
        users[name] = hashed
    return users


def _shared_key(config: dict, why: str) -> None:
    """ConfigError unless CACHE_SIGNING_KEY is set: what replicas and workers share in Redis needs it."""
    if len(config["CACHE_SIGNING_KEY"]) < 32:
        raise ConfigError(
            f"CACHE_SIGNING_KEY must be set, at least 32 characters and the same on every replica, with {why}"
        )


def _url(name: str, value: str, schemes: tuple[str, ...]) -> None:
    parts = urlsplit(value)
    if (
        parts.scheme not in schemes
        or not (parts.netloc or parts.scheme.endswith("unix"))
        or parts.query
        or parts.fragment
    ):
        raise ConfigError(f"{name}={value!r} is not a {'/'.join(schemes)} URL")


def _flag(name: str, value) -> bool:
    text = str(value).lower()
    if text not in ("true", "false", "1", "0", "yes", "no"):
        raise ConfigError(f"{name}={value!r} is not true or false")
    return text in ("true", "1", "yes")


def _seconds(name: str, value) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name}={value!r} is not a number of seconds") from None
    if not 0.01 <= seconds <= 3600:
        raise ConfigError(f"{name}={value!r} must be between 0.01 and 3600 seconds")
    return seconds


def _whole_number(name: str, value, minimum: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name}={value!r} is not a whole number") from None
    if number < minimum:
        raise ConfigError(f"{name}={value!r} must be at least {minimum}")
    return number
