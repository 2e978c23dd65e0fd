"""Datasette plugins: the people's pages and the read-only, limits and query-gate hooks, one module each,
registered as `datasette` entry points in pyproject.toml."""
