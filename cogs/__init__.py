"""Discord adapters, one package per feature. Thin: commands, views and embeds; no SQL."""
