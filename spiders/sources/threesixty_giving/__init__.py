"""The threesixty_giving source: its spider, item, record table, replay routes and snapshots (data/), in one folder."""
