"""Guard rails: the layers' import rules, read from the source, so a shortcut fails here first.

* ``bot/domain`` is pure: no Discord, no database, no services.
* SQL lives in ``bot/db`` only.
* ``bot/`` never imports ``cogs/``, and no cog imports another cog.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SQL = re.compile(
    r"\b(SELECT\s.+\sFROM|INSERT\s+(OR\s+\w+\s+)?INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|"
    r"CREATE\s+(TABLE|INDEX|TRIGGER|VIRTUAL)|PRAGMA\s+\w+)\b",
    re.DOTALL,
)


def python_files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def imported_modules(path: Path) -> Iterator[str]:
    """Every module ``path`` imports, absolute (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                yield ".".join([*base, node.module or ""]).rstrip(".")
            else:
                yield node.module or ""


def within(module: str, *packages: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def name(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_the_domain_imports_no_discord_database_or_services() -> None:
    forbidden = ("discord", "aiosqlite", "sqlite3", "bot.db", "bot.services", "bot.client", "cogs")
    offences = [
        f"{name(path)} imports {module}"
        for path in python_files("bot/domain")
        for module in imported_modules(path)
        if within(module, *forbidden)
    ]
    assert offences == []


def sql_in(tree: ast.AST) -> list[str]:
    """SQL text and statement calls in a module, ``line: what``."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if SQL.search(node.value):
                found.append(f"{node.lineno}: {node.value[:60]!r}")
        elif isinstance(node, ast.Attribute) and node.attr in {"execute", "executemany"}:
            found.append(f"{node.lineno}: .{node.attr}(…)")
    return found


def test_sql_lives_only_in_bot_db() -> None:
    offences = []
    for folder in ("bot", "cogs"):
        for path in python_files(folder):
            if within(".".join(path.relative_to(ROOT).parts), "bot.db"):
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            offences += [f"{name(path)}:{found}" for found in sql_in(tree)]
            offences += [
                f"{name(path)} imports {module}"
                for module in imported_modules(path)
                if within(module, "sqlite3")
            ]
    assert offences == []


def test_bot_never_imports_cogs() -> None:
    offences = [
        f"{name(path)} imports {module}"
        for path in python_files("bot")
        for module in imported_modules(path)
        if within(module, "cogs")
    ]
    assert offences == []


def test_no_cog_imports_another_cog() -> None:
    offences = []
    for path in python_files("cogs"):
        parts = path.relative_to(ROOT).parts
        if len(parts) < 3:
            continue  # cogs/__init__.py
        own = f"cogs.{parts[1]}"
        offences += [
            f"{name(path)} imports {module}"
            for module in imported_modules(path)
            if within(module, "cogs") and not within(module, own)
        ]
    assert offences == []


@pytest.mark.parametrize(
    ("source", "bad"),
    [
        ('Q = "SELECT id FROM picks WHERE x = 1"', True),
        ("conn.execute(Q)", True),
        ('Q = "Select the entry you want to edit"', False),
    ],
)
def test_the_sql_check_tells_sql_from_prose(source: str, bad: bool) -> None:
    assert bool(sql_in(ast.parse(source))) is bad
