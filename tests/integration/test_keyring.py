"""The keyring on the real embedded Postgres: a tenant's data key made once however many
processes ask at once, values that open only for their tenant and purpose, a destroyed key
that reads as forgotten everywhere, and a master key rotated with everything still readable.

Each test gets a database of its own in the session's Postgres, so rotating every key of the
install here never touches the keys the services of the session use."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text
from sqlalchemy.engine import make_url

from runtime.db import make_engine
from runtime.keyring import TABLE, Forgotten, Keyring, MasterKeyMissing, ProviderKeys
from runtime.secrets import SecretBox, SecretUnreadable

pytestmark = pytest.mark.integration

PURPOSE = "expert.backend.api_key"
SECRET = b"sk-provider-0123456789abcdef"


@pytest.fixture
async def engines(servers):
    """Engines on a new, empty database: one per 'process' a test asks for."""
    name = f"keyring_{uuid.uuid4().hex[:12]}"
    admin = make_engine(servers.database_url).execution_options(isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(servers.database_url).set(database=name).render_as_string(hide_password=False)
    made = []

    def engine():
        made.append(make_engine(url, pool_size=2))
        return made[-1]

    yield engine
    for each in made:
        await each.dispose()
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    await admin.dispose()


def master() -> SecretBox:
    return SecretBox(Fernet.generate_key())


async def test_a_sealed_value_opens_for_its_tenant_and_purpose_only(engines):
    box = master()
    keyring = Keyring(engines(), box)
    sealed = await keyring.seal("alice", SECRET, PURPOSE)
    assert SECRET not in sealed
    assert await keyring.open("alice", sealed, PURPOSE) == SECRET
    await keyring.seal("bob", b"bob's own", PURPOSE)  # bob has a key of his own
    with pytest.raises(SecretUnreadable) as other_tenant:
        await keyring.open("bob", sealed, PURPOSE)
    assert not isinstance(other_tenant.value, Forgotten)
    with pytest.raises(SecretUnreadable):
        await keyring.open("alice", sealed, "trainer.hosted.api_key")
    with pytest.raises(SecretUnreadable):
        await keyring.open("alice", sealed[:-1] + bytes([sealed[-1] ^ 1]), PURPOSE)
    # another process, with nothing cached, reads the same key from the table
    assert await Keyring(engines(), box).open("alice", sealed, PURPOSE) == SECRET


async def test_concurrent_first_uses_agree_on_one_key(engines):
    box = master()
    keyrings = [Keyring(engines(), box) for _ in range(6)]  # six processes
    for keyring in keyrings:  # each connected and ready, so their first uses of carol's key
        await keyring.seal(f"warm-{uuid.uuid4().hex[:6]}", SECRET, PURPOSE)  # meet at once
    sealed = await asyncio.gather(*(k.seal("carol", SECRET, PURPOSE) for k in keyrings))
    for keyring in keyrings:
        for value in sealed:
            assert await keyring.open("carol", value, PURPOSE) == SECRET
    async with keyrings[0].engine.connect() as conn:
        rows = await conn.scalar(text(f"SELECT count(*) FROM {TABLE} WHERE tenant = 'carol'"))
    assert rows == 1


async def test_a_destroyed_key_reads_as_forgotten_everywhere(engines):
    box = master()
    here, elsewhere = Keyring(engines(), box), Keyring(engines(), box)
    sealed = await here.seal("dave", SECRET, PURPOSE)
    expert = await here.seal("dave", b"expert's", PURPOSE, scope="expert/e1")
    kept = await here.seal("erin", SECRET, PURPOSE)
    assert await here.destroy("dave") == 2
    for keyring in (here, Keyring(engines(), box)):
        with pytest.raises(Forgotten):
            await keyring.open("dave", sealed, PURPOSE)
        with pytest.raises(Forgotten):
            await keyring.open("dave", expert, PURPOSE, scope="expert/e1")
        with pytest.raises(Forgotten):  # no new key is made for a forgotten tenant
            await keyring.seal("dave", SECRET, PURPOSE)
        with pytest.raises(Forgotten):
            await keyring.seal("dave", SECRET, PURPOSE, scope="expert/e2")
    assert await elsewhere.open("erin", kept, PURPOSE) == SECRET  # others untouched
    assert await here.destroy("dave") == 0  # again: nothing left to destroy
    async with here.engine.connect() as conn:
        left = await conn.scalar(
            text(f"SELECT count(*) FROM {TABLE} WHERE tenant = 'dave' AND wrapped IS NOT NULL")
        )
    assert left == 0


async def test_destroying_one_scope_keeps_the_tenants_other_keys(engines):
    keyring = Keyring(engines(), master())
    own = await keyring.seal("fay", SECRET, PURPOSE)
    expert = await keyring.seal("fay", SECRET, PURPOSE, scope="expert/e1")
    assert await keyring.destroy("fay", scope="expert/e1") == 1
    with pytest.raises(Forgotten):
        await keyring.open("fay", expert, PURPOSE, scope="expert/e1")
    assert await keyring.open("fay", own, PURPOSE) == SECRET


async def test_rotating_the_master_key_keeps_everything_readable(engines):
    old, new = master(), master()
    keyring = Keyring(engines(), old)
    sealed = {t: await keyring.seal(t, t.encode() + SECRET, PURPOSE) for t in ("gus", "hal")}
    await keyring.destroy("ivy")
    async with keyring.engine.connect() as conn:
        before = dict((await conn.execute(text(f"SELECT tenant, wrapped FROM {TABLE}"))).all())

    assert await keyring.rotate_master(new) == 2  # the destroyed one stays destroyed
    async with keyring.engine.connect() as conn:
        after = await conn.execute(text(f"SELECT tenant, wrapped, master_key_id FROM {TABLE}"))
        after = {tenant: (wrapped, key_id) for tenant, wrapped, key_id in after.all()}
    assert after["ivy"] == (None, None)
    for tenant in ("gus", "hal"):
        assert after[tenant] == (after[tenant][0], new.key_id)
        assert after[tenant][0] != before[tenant]

    restarted = Keyring(engines(), new)  # a process started with only the new master key
    for tenant, value in sealed.items():
        assert await restarted.open(tenant, value, PURPOSE) == tenant.encode() + SECRET
    assert await keyring.open("gus", await keyring.seal("gus", SECRET, PURPOSE), PURPOSE)
    with pytest.raises(MasterKeyMissing, match=new.key_id):
        await Keyring(engines(), old).open("gus", sealed["gus"], PURPOSE)


async def test_a_wrapped_key_moved_to_another_tenant_does_not_open(engines):
    box = master()
    keyring = Keyring(engines(), box)
    await keyring.seal("jo", SECRET, PURPOSE)
    await keyring.seal("kim", SECRET, PURPOSE)
    async with keyring.engine.begin() as conn:
        await conn.execute(
            text(
                f"UPDATE {TABLE} SET wrapped = (SELECT wrapped FROM {TABLE} WHERE tenant = 'jo')"
                " WHERE tenant = 'kim'"
            )
        )
    with pytest.raises(SecretUnreadable, match="does not open"):
        await Keyring(keyring.engine, box).seal("kim", SECRET, PURPOSE)


async def test_provider_keys_are_marked_and_old_tokens_still_open(engines):
    box = master()
    keys = ProviderKeys(Keyring(engines(), box), box)
    sealed = await keys.seal("lee", "sk-new", PURPOSE)
    assert sealed.startswith("v2:") and sealed.isascii() and "sk-new" not in sealed
    assert await keys.open("lee", sealed, PURPOSE) == "sk-new"
    legacy = box.seal("sk-old")  # as events written before the keyring hold it
    assert await keys.open("lee", legacy, PURPOSE) == "sk-old"
    with pytest.raises(SecretUnreadable):
        await keys.open("lee", "v2:not base64!", PURPOSE)
