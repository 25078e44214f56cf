"""Raises on import, on purpose."""

raise RuntimeError("this plugin is broken on purpose")
