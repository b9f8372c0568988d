"""The `storyline` command."""
