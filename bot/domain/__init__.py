"""Pure domain rules: no discord, no aiosqlite, no clock (``now`` is always passed in)."""
