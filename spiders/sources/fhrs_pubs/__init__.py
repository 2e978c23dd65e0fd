"""The fhrs_pubs source: its spider, item, record table, replay routes and snapshots (data/), in one folder."""
