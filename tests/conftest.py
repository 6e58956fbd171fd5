"""Fixtures shared by every layer: a freshly migrated database and a fake clock."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from hypothesis import settings

from bot.db import Database
from tests.fakes import FakeClock

# Hypothesis fails an example that takes over 200 ms by default: a wall-clock threshold, which a
# busy CI machine would turn into a flaky failure. Examples may take what they take.
settings.register_profile("undercurrent", deadline=None)
settings.load_profile("undercurrent")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database file with every migration applied, made once: copying it is a millisecond,
    migrating afresh for each of hundreds of tests was seconds of the suite."""
    path = tmp_path_factory.mktemp("template") / "undercurrent.sqlite3"

    async def migrate() -> None:
        await (await Database.open(path)).close()

    asyncio.run(migrate())
    assert not path.with_name(path.name + "-wal").exists(), "closing checkpoints the WAL"
    return path


@pytest.fixture
def db_path(tmp_path: Path, migrated_database: Path) -> Path:
    """This test's database file: freshly migrated, its own."""
    path = tmp_path / "undercurrent.sqlite3"
    shutil.copyfile(migrated_database, path)
    return path


@pytest_asyncio.fixture
async def db(db_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(db_path)
    yield database
    await database.close()
