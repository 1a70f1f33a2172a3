"""Use cases that tie the database and the engine; callbacks, the API and the CLI call these."""
