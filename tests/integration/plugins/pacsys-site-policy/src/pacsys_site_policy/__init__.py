"""A site policy plugin, as an outside author would write it."""
