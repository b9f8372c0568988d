"""What a process remembers of resolved secrets, and how every process
forgets it when a credential changes (kernel/credentials.py).

Two containers on one database stand for two server processes: each has its
own cache and its own epoch, and only the database (and, on SQLite, the file
beside it; on PostgreSQL, the notification channel) is shared."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, event, update

from storyline.accounts import auth, tokens, web_sessions
from storyline.accounts.audit import Client
from storyline.accounts.models import User
from storyline.bootstrap import Container, build
from storyline.config import Settings
from storyline.errors import NotAuthenticated
from storyline.kernel import credentials
from storyline.kernel.credentials import CredentialCache, ListenEpoch, LocalEpoch
from storyline.kernel.schema import utcnow
from tests.factories import Factory, TestUser

CLIENT = Client(ip="127.0.0.1", user_agent="test")


@pytest.fixture
def other(settings: Settings) -> Iterator[Container]:
    """A second server process's view of the same database."""
    container = build(settings)
    try:
        yield container
    finally:
        container.db.dispose()


def _eventually(condition: Callable[[], bool], seconds: float = 5.0) -> bool:
    # PostgreSQL delivers a notification once the change commits, to a
    # listening thread: a moment later, not at once.
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def _sign_in(container: Container, user: TestUser) -> str:
    """A browser session for `user`; its cookie secret."""
    with container.db.write() as session:
        row = session.get(User, user.id)
        assert row is not None
        return web_sessions.open_session(
            session, settings=container.settings, user=row, method="password", client=CLIENT
        )


def _remembered_by(container: Container, user: TestUser) -> None:
    auth.resolve(container.db, secret=user.token, client=CLIENT)
    assert auth.remembered(container.db, secret=user.token) is not None


def test_a_token_revoked_by_another_process_is_refused(
    factory: Factory, container: Container, other: Container
) -> None:
    alice = factory.user()
    _remembered_by(container, alice)
    as_alice = auth.resolve(other.db, secret=alice.token, client=CLIENT).actor
    with other.db.write() as session:
        tokens.delete_all_tokens(session, actor=as_alice, user_id=alice.id)
    assert _eventually(lambda: auth.remembered(container.db, secret=alice.token) is None)
    with pytest.raises(NotAuthenticated, match="revoked"):
        auth.resolve(container.db, secret=alice.token, client=CLIENT)


def test_a_user_disabled_by_another_process_is_refused(
    factory: Factory, container: Container, other: Container
) -> None:
    alice, bob = factory.user(), factory.user()
    _remembered_by(container, alice)
    _remembered_by(container, bob)
    with other.db.write() as session:
        session.get(User, alice.id).is_active = False  # type: ignore[union-attr]
    assert _eventually(lambda: auth.remembered(container.db, secret=alice.token) is None)
    with pytest.raises(NotAuthenticated, match="disabled"):
        auth.resolve(container.db, secret=alice.token, client=CLIENT)
    # Everyone else is looked up once more, and remembered again.
    assert auth.remembered(container.db, secret=bob.token) is None
    _remembered_by(container, bob)


def test_an_administrator_made_elsewhere_is_one_at_once(
    factory: Factory, container: Container, other: Container
) -> None:
    alice = factory.user()
    _remembered_by(container, alice)
    with other.db.write() as session:
        session.execute(update(User).where(User.id == alice.id).values(is_superuser=True))
    assert _eventually(lambda: auth.remembered(container.db, secret=alice.token) is None)
    bearer = auth.resolve(container.db, secret=alice.token, client=CLIENT)
    assert bearer.actor.is_superuser


def test_a_session_ended_elsewhere_signs_the_browser_out(
    factory: Factory, container: Container, other: Container
) -> None:
    alice = factory.user()
    secret = _sign_in(container, alice)
    assert web_sessions.signed_in(container.db, secret=secret) is not None
    with other.db.write() as session:
        web_sessions.close(session, secret=secret, client=CLIENT)
    assert _eventually(
        lambda: container.db.credentials.get(("web_session", web_sessions._sha256(secret))) is None
    )
    assert web_sessions.signed_in(container.db, secret=secret) is None


def test_recording_use_forgets_nothing(
    factory: Factory, container: Container, other: Container
) -> None:
    """Writing a token's last use (every few minutes) or a session's last page
    view writes to a credential table but changes no answer."""
    alice = factory.user()
    secret = _sign_in(container, alice)
    signed_in = web_sessions.signed_in(container.db, secret=secret)
    assert signed_in is not None
    bearer = auth.resolve(container.db, secret=alice.token, client=CLIENT)
    epoch = container.db.credentials.epoch()
    with other.db.write() as session:
        auth.touch(session, token_id=bearer.token_id)
        web_sessions.touch(session, session_id=signed_in.session_id)
    time.sleep(0.2)  # what a notification would need to arrive
    assert container.db.credentials.epoch() == epoch
    assert auth.remembered(container.db, secret=alice.token) is not None
    assert container.db.credentials.get(("web_session", web_sessions._sha256(secret)))


def test_a_change_rolled_back_forgets_nothing(
    factory: Factory, container: Container, other: Container
) -> None:
    alice = factory.user()
    _remembered_by(container, alice)
    epoch = container.db.credentials.epoch()

    class Undo(Exception):
        pass

    def disable_then_undo() -> None:
        with other.db.write() as session:
            session.execute(update(User).where(User.id == alice.id).values(is_active=False))
            session.flush()
            raise Undo

    with pytest.raises(Undo):
        disable_then_undo()
    time.sleep(0.2)
    assert container.db.credentials.epoch() == epoch
    assert auth.remembered(container.db, secret=alice.token) is not None


def test_an_expired_token_is_refused_from_memory(factory: Factory, container: Container) -> None:
    alice = factory.user()
    bearer = auth.resolve(container.db, secret=alice.token, client=CLIENT)
    # As if remembered a moment before it expired: no credential changed.
    key = ("token", auth.hash_token(alice.token))
    container.db.credentials.put(
        key,
        container.db.credentials.epoch(),
        type(bearer)(**{**bearer.__dict__, "expires_at": utcnow()}),
    )
    with pytest.raises(NotAuthenticated, match="expired"):
        auth.remembered(container.db, secret=alice.token)


def test_entries_last_at_most_the_ttl(monkeypatch: pytest.MonkeyPatch) -> None:
    cache = CredentialCache(LocalEpoch())
    monkeypatch.setattr(credentials, "TTL", 0.05)
    cache.put("key", cache.epoch(), "value")
    assert cache.get("key") == "value"
    time.sleep(0.06)
    assert cache.get("key") is None


def test_entries_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(credentials, "MAX_ENTRIES", 3)
    cache = CredentialCache(LocalEpoch())
    for n in range(5):
        cache.put(n, cache.epoch(), n)
    assert [cache.get(n) for n in range(5)] == [None, None, 2, 3, 4]


def test_nothing_is_remembered_without_a_listener(monkeypatch: pytest.MonkeyPatch) -> None:
    """A PostgreSQL process that cannot listen for changes cannot know when to
    forget, so it remembers nothing."""
    monkeypatch.setattr(credentials, "LISTEN_FIRST_WAIT", 5.0)
    engine = create_engine(
        "postgresql+psycopg://nobody@127.0.0.1:9/none", connect_args={"connect_timeout": 1}
    )
    epoch = ListenEpoch(engine)
    try:
        cache = CredentialCache(epoch)
        assert cache.epoch() is None
        cache.put("key", cache.epoch(), "value")
        assert cache.get("key") is None
    finally:
        epoch.close()
        engine.dispose()


def test_the_api_resolves_a_token_once(
    client: TestClient, factory: Factory, container: Container
) -> None:
    alice = factory.user()
    looked_up: list[str] = []

    def _count(*args: object) -> None:
        if "access_tokens" in str(args[2]):
            looked_up.append(str(args[2]))

    event.listen(container.db.engine, "before_cursor_execute", _count)
    try:
        for _ in range(3):
            response = client.get("/v1/users/self", headers=alice.headers)
            assert response.status_code == 200
    finally:
        event.remove(container.db.engine, "before_cursor_execute", _count)
    # The lookup, and the first use written; then nothing.
    assert len([s for s in looked_up if s.lstrip().upper().startswith("SELECT")]) == 1
