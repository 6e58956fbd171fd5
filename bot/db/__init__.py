"""Storage: the connection, migrations and repositories. The only package that contains SQL."""

from bot.db.connection import Database

__all__ = ["Database"]
