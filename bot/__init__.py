"""Undercurrent: a Discord bot for subgenre listening communities."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("undercurrent")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"

DESCRIPTION = (
    "For listening communities: share picks and dig through your scene's archive, "
    "with provenance, lineage and search."
)
