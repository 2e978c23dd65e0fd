"""The replay server and the recorded snapshots it serves."""
