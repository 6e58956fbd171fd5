"""Every feature package loads, unloads and loads again, and what features register is unique:
a restart-proof button's template or a job kind claimed twice would route one feature's clicks
or jobs to another."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import discord
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st

from bot.client import CLIENT_DYNAMIC_ITEMS, DEFAULT_EXTENSIONS, UndercurrentBot
from bot.config import Secret, Settings
from bot.db import Database
from bot.domain.jobs import JobKind
from tests.fakes import FakeClock

COGS = Path(__file__).resolve().parents[2] / "cogs"


def feature_packages() -> set[str]:
    return {
        f"cogs.{path.parent.name}"
        for path in COGS.glob("*/__init__.py")
        if hasattr(importlib.import_module(f"cogs.{path.parent.name}"), "setup")
    }


def test_every_feature_package_is_loaded_by_default() -> None:
    assert set(DEFAULT_EXTENSIONS) == feature_packages()


async def all_dynamic_items(db: Database, db_path: Path, clock: FakeClock) -> list[type[Any]]:
    """The bot's own restart-proof buttons and every feature's, as registered."""
    settings = Settings(discord_token=Secret("unused"), database_path=db_path)
    bot = UndercurrentBot(settings=settings, db=db, clock=clock, run_background_work=False)
    items: list[type[Any]] = list(CLIENT_DYNAMIC_ITEMS)
    bot.add_dynamic_items = lambda *added: items.extend(added)  # type: ignore[method-assign]
    for extension in DEFAULT_EXTENSIONS:
        await bot.load_extension(extension)
    return items


async def test_no_custom_id_is_claimed_by_two_restart_proof_buttons(
    db: Database, db_path: Path, clock: FakeClock
) -> None:
    """Two templates that can match the same custom_id would send one feature's clicks to the
    other (discord.py routes to the first that matches): custom ids drawn from each template
    must match no other."""
    templates = [
        item.__discord_ui_compiled_template__
        for item in await all_dynamic_items(db, db_path, clock)
    ]
    assert len(templates) >= 3  # votes, an edit's second page, notices

    @examples(max_examples=100, suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def no_overlap(data: st.DataObject) -> None:
        mine = data.draw(st.sampled_from(templates))
        custom_id = data.draw(st.from_regex(mine, fullmatch=True).filter(lambda c: len(c) <= 100))
        assert [t.pattern for t in templates if t.fullmatch(custom_id)] == [mine.pattern]

    no_overlap()


async def test_extensions_register_unique_buttons_and_job_kinds(
    db: Database, db_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(discord_token=Secret("unused"), database_path=db_path)
    bot = UndercurrentBot(settings=settings, db=db, clock=clock, run_background_work=False)
    templates: dict[str, str] = {}
    kinds: dict[str, str] = {}
    loading = ""

    def add_dynamic_items(*items: type[discord.ui.DynamicItem[Any]]) -> None:
        for item in items:
            pattern = item.__discord_ui_compiled_template__.pattern
            assert pattern not in templates, f"{loading} reuses {templates[pattern]}'s {pattern}"
            templates[pattern] = loading

    register = bot.scheduler.register

    def register_kind(kind: JobKind[Any], *args: Any, **kwargs: Any) -> None:
        assert kind.name not in kinds, f"{loading} reuses {kinds[kind.name]}'s job kind {kind.name}"
        kinds[kind.name] = loading
        register(kind, *args, **kwargs)

    monkeypatch.setattr(bot, "add_dynamic_items", add_dynamic_items)
    monkeypatch.setattr(bot.scheduler, "register", register_kind)
    # The bot never logs in, so it holds no connection to close.
    for extension in DEFAULT_EXTENSIONS:
        loading = extension
        await bot.load_extension(extension)
    assert templates  # the cards' vote buttons at least
    assert "archive.purge_removed" in kinds
    for extension in DEFAULT_EXTENSIONS:  # unloading lets go of every job kind
        await bot.unload_extension(extension)
    monkeypatch.undo()
    for extension in DEFAULT_EXTENSIONS:
        await bot.load_extension(extension)  # and loading again claims them afresh
