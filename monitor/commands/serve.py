"""`run.py serve`: Datasette over the public database plus the people's pages (monitor/web/), on one port.

`run.py serve-unsubscribe` is another name for it: the unsubscribe links are answered there now.
"""
from __future__ import annotations

import signal
import sys
import tempfile
from pathlib import Path

import click

from db.serve import start, wait_until_ready
from monitor.commands.group import cli


@cli.command()
@click.option("--port", default=8001, show_default=True, help="Port to listen on.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; 0.0.0.0 makes it reachable from other machines.")
@click.option("--immutable", is_flag=True,
              help="Open the file as immutable: faster, but only for a copy nothing writes to any more.")
@click.pass_obj
def serve(obj, port, host, immutable):
    """Serve the public site: Datasette (read-only) plus the people's pages (/wards, feeds, subscribe, unsubscribe).

    The private database is never served; only the subscription pages write to it, by token.
    Example: python run.py serve --port 8001
    """
    # A SIGTERM to this process must stop Datasette too, so turn it into an exit that runs the finally below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with tempfile.TemporaryDirectory(prefix="lbm-datasette-") as folder:
        process = start(obj.db_path, Path(folder), host, port, immutable, obj.private_db_path,
                        memory_mb=obj.settings.get("serve_memory_mb", 0), config_path=obj.config_path)
        url = f"http://{host}:{port}"
        try:
            wait_until_ready(process, url)
            click.echo(f"Datasette: {url}/{Path(obj.db_path).stem}   Find a ward: {url}/wards  (Ctrl-C to stop)")
            process.wait()
        finally:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=10)


# The unsubscribe links used to have their own server; `serve` answers them now (the old name still works).
cli.add_command(serve, "serve-unsubscribe")

