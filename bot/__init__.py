"""Undercurrent: a Discord bot for subgenre listening communities."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("undercurrent")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"

DESCRIPTION = (
    "Recommendation swaps, listening parties and a scene archive for listening communities."
)
