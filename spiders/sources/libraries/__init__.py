"""The libraries source: its spider, item, record table, replay routes and snapshots (data/), in one folder."""
