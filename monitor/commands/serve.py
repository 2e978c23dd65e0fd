"""`run.py serve` (Datasette over the public database) and `run.py serve-unsubscribe` (the unsubscribe page)."""
from __future__ import annotations

import signal
import sys
import tempfile
from pathlib import Path

import click

from db.serve import start, wait_until_ready
from monitor.commands.group import cli
from monitor.delivery.unsubscribe_server import make_server


@cli.command()
@click.option("--port", default=8001, show_default=True, help="Port to listen on.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; 0.0.0.0 makes it reachable from other machines.")
@click.option("--immutable", is_flag=True,
              help="Open the file as immutable: faster, but only for a copy nothing writes to any more.")
@click.pass_obj
def serve(obj, port, host, immutable):
    """Browse the public database in Datasette (read-only; the private database is never served).

    Example: python run.py serve --port 8001
    """
    # A SIGTERM to this process must stop Datasette too, so turn it into an exit that runs the finally below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with tempfile.TemporaryDirectory(prefix="lbm-datasette-") as folder:
        process = start(obj.db_path, Path(folder), host, port, immutable, obj.private_db_path,
                        memory_mb=obj.settings.get("serve_memory_mb", 0))
        url = f"http://{host}:{port}"
        try:
            wait_until_ready(process, url)
            click.echo(f"Datasette: {url}/{Path(obj.db_path).stem}  (Ctrl-C to stop)")
            process.wait()
        finally:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=10)


@cli.command("serve-unsubscribe")
@click.option("--port", default=8002, show_default=True, help="Port to listen on.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.pass_obj
def serve_unsubscribe(obj, port, host):
    """Answer the unsubscribe links in alerts and digests (setting unsubscribe_url points here).

    Example: python run.py serve-unsubscribe --port 8002
    """
    server = make_server(obj.private_db_path, host, port)
    click.echo(f"Unsubscribe links answered on http://{host}:{port}/unsubscribe  (Ctrl-C to stop)")
    try:
        server.serve_forever()
    finally:
        server.server_close()
