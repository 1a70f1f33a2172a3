"""Data layer: models, engine/session factory, queries and bulk ingest (the only place with SQL)."""
