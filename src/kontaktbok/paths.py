"""Where kontaktbok keeps its data: read by the settings and, before Django starts, by the
``kontaktbok`` command, which says which data dir it uses."""

import os
from pathlib import Path

SOURCE_ROOT = Path(__file__).resolve().parent.parent.parent


def data_dir() -> Path:
    """``KONTAKTBOK_DATA_DIR``, else ``var/`` beside the source."""
    return Path(os.environ.get("KONTAKTBOK_DATA_DIR", str(SOURCE_ROOT / "var"))).resolve()
