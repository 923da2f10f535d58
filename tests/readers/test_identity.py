"""Who a reader is, for one day: what a copy of the database (a backup, a replica, its
administrator) can and cannot learn from the reader hashes kept in it."""

from __future__ import annotations

import hashlib

import pytest
from helpers import HASH, migrated, stored, table

from app.config import ConfigError

ADDRESS = "192.0.2.7"
KEY = "k" * 32
USERS = f"forfatter:{HASH}"


@pytest.fixture
def reader_app(make_app, tmp_path):
    def make(**overrides):
        settings = {
            "DATABASE_URL": f"sqlite:///{tmp_path}/feedback.db",
            "INSIGHTS_USERS": USERS,
            "INSIGHTS_FLUSH_SECONDS": "3600",
            **overrides,
        }
        return migrated(make_app(**settings))

    return make


def guesses(salt: bytes, *parts: str) -> str:
    """What someone holding the database would compute for an address they suspect."""
    return hashlib.sha256(salt + "\0".join(parts).encode()).hexdigest()


def test_the_database_alone_cannot_tell_whose_vote_or_search_a_hash_is(reader_app):
    app = reader_app()
    client = app.test_client()
    environ = {"REMOTE_ADDR": ADDRESS}
    assert client.post("/api/feedback", json={"slug": "what-is-ip-adapter", "helpful": True}, environ_base=environ)
    client.get("/docs.php?q=min+konto", environ_base=environ)
    assert app.extensions["tally"].flush()
    [(salt,)] = table(app, "SELECT salt FROM feedback_salts")
    [vote] = stored(app, "feedback_votes")
    [(searcher,)] = table(app, "SELECT reader FROM insights_search_readers")
    # Every seat the address could have had, and the address as counting keeps it in memory.
    assert vote["reader"] not in {guesses(salt, ADDRESS, "what-is-ip-adapter", str(seat)) for seat in range(3)}
    digest = hashlib.sha256(ADDRESS.encode()).hexdigest()
    assert searcher not in {guesses(salt, digest, "nb", "min konto"), guesses(salt, ADDRESS, "nb", "min konto")}


def test_the_key_is_kept_beside_the_sqlite_file_and_shared_by_every_app_on_it(reader_app, tmp_path):
    first = reader_app()
    vote(first, helpful=True)
    key = tmp_path / "feedback.db.reader-key"
    assert key.stat().st_mode & 0o777 == 0o600 and len(key.read_text()) == 64
    assert key.read_text() not in (tmp_path / "feedback.db").read_bytes().decode("latin-1")
    second = reader_app()  # another worker, a restart, or another server on the file
    vote(second, helpful=False)
    [row] = stored(first, "feedback_votes")  # the second answer replaced the first
    assert row["helpful"] in (False, 0)
    assert [path.name for path in tmp_path.iterdir() if "reader-key" in path.name] == [key.name]


def vote(app, helpful: bool) -> None:
    posted = app.test_client().post(
        "/api/feedback", json={"slug": "what-is-ip-adapter", "helpful": helpful}, environ_base={"REMOTE_ADDR": ADDRESS}
    )
    assert posted.status_code == 201


def test_replicas_with_the_same_key_know_a_reader_as_one(reader_app, tmp_path):
    first, second = reader_app(READER_KEY=KEY), reader_app(READER_KEY=KEY)
    assert not (tmp_path / "feedback.db.reader-key").exists()
    for app, helpful in ((first, True), (second, False)):
        vote = {"slug": "what-is-ip-adapter", "helpful": helpful}
        posted = app.test_client().post("/api/feedback", json=vote, environ_base={"REMOTE_ADDR": ADDRESS})
        assert posted.status_code == 201
    [vote] = stored(first, "feedback_votes")  # the second answer replaced the first
    assert vote["helpful"] in (False, 0)


def test_a_reader_key_too_short_to_be_secret_is_refused(make_app):
    with pytest.raises(ConfigError, match="READER_KEY"):
        make_app(READER_KEY="kort")


def test_postgresql_without_a_reader_key_is_refused(make_app):
    # Replicas share PostgreSQL: each with a key of its own would count one reader once per replica.
    with pytest.raises(ConfigError, match="READER_KEY"):
        make_app(DATABASE_URL="postgresql+psycopg://help@127.0.0.1:1/help", READER_KEY="")


@pytest.mark.parametrize("planted", ["", "\n", "abc", "k" * 31])
def test_a_key_file_too_short_to_be_secret_stops_the_start(reader_app, tmp_path, planted):
    key = tmp_path / "feedback.db.reader-key"
    key.write_text(planted)
    key.chmod(0o600)
    with pytest.raises(ConfigError, match="reader key"):
        reader_app()


def test_a_key_file_others_may_read_or_a_link_stops_the_start(reader_app, tmp_path):
    key = tmp_path / "feedback.db.reader-key"
    key.write_text("k" * 64)
    key.chmod(0o640)
    with pytest.raises(ConfigError, match="chmod 600"):
        reader_app()
    key.unlink()
    (tmp_path / "elsewhere").write_text("k" * 64)
    (tmp_path / "elsewhere").chmod(0o600)
    key.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(ConfigError, match="not a link"):
        reader_app()
    key.unlink()
    key.symlink_to(tmp_path / "nowhere")  # dangling: found at the start, not at each vote
    with pytest.raises(ConfigError, match="reader key"):
        reader_app()
