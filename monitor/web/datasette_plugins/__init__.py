"""Datasette plugins: the folder `run.py serve` hands to Datasette as its plugins directory."""
from pathlib import Path

PLUGINS_DIR = Path(__file__).parent
