"""Repositories: SQL as named constants and the small async functions that run them, per table group."""
