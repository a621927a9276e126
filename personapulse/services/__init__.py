"""Use cases of the engine, shared by the HTTP face and the CLI."""
