"""Pure rules of the tracker: no I/O, no database."""
