"""Datasette configuration of the public database: metadata.yml, settings.json and queries/*.sql."""
