"""Files Jasyl keeps beside the database (plant photos, the tile cache), written whole or not
at all."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomically(target: Path, data: bytes) -> None:
    """Write under a temporary name in the same folder, then rename: a reader (another worker, a
    backup) never sees half a file, and a failure leaves no stray temporary file behind."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
