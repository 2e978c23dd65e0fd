"""Start `run.py serve` (Datasette plus the people's pages) over a filled public database, for the web tests."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from db import serve as serve_mod
from db.store import init_private, init_public
from spiders.replay import postcodes_io
from spiders.replay.server import ReplayServer
from tests.test_serve import fill_sample

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def web_server(folder: Path, template_db: Path, fill=None, **settings):
    """Yield a dict (url, db, paths, maildir, the postcodes.io replay) for a served site.

    fill(db) adds to the sample data before the site starts; postcodes.io is the local replay unless the settings
    give another postcodes_url (a closed port, say)."""
    db_path, private_path, maildir = folder / "leftbehind.db", folder / "private.db", folder / "mail"
    shutil.copyfile(template_db, db_path)
    db = init_public(db_path)
    fill_sample(db, datetime.now(UTC))
    if fill:
        fill(db)
    db.close()
    init_private(private_path).close()
    port = serve_mod.free_port()
    url = f"http://127.0.0.1:{port}"
    with ReplayServer(routes=postcodes_io.routes()) as postcodes:
        postcodes_url = settings.pop("postcodes_url", postcodes.url)
        config = {"postcodes_url": postcodes_url, "maildir": str(maildir), "web_url": url,
                  "unsubscribe_url": f"{url}/unsubscribe", **settings}
        (folder / "site.toml").write_text("".join(f"{k} = {_toml(v)}\n" for k, v in config.items()))
        log = open(folder / "serve.log", "wb")
        # Run from another folder with relative paths, as a person would.
        process = subprocess.Popen([sys.executable, str(ROOT / "run.py"), "--db", "leftbehind.db",
                                    "--private-db", "private.db", "--config", "site.toml", "serve", "--port",
                                    str(port)], cwd=folder, stdout=log, stderr=subprocess.STDOUT,
                                   env=dict(os.environ, LBM_POSTCODES_URL=postcodes_url))
        try:
            serve_mod.wait_until_ready(process, url)
            yield {"postcodes_url": postcodes_url, "postcodes": postcodes, "url": url, "db": "leftbehind", "db_path": db_path, "private_path": private_path,
                   "maildir": maildir, "folder": folder, "config": folder / "site.toml"}
        finally:
            process.terminate()
            process.wait(timeout=15)
            log.close()


def _toml(value) -> str:
    return str(value) if isinstance(value, int) else '"' + str(value).replace("\\", "\\\\") + '"'
