"""A plugin that fails to import, to prove pacsys survives it."""
