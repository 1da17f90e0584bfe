"""Pure answering logic: prompts in, checked and scored answers out (no I/O)."""
