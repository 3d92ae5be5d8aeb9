"""How much a survey archive may unpack to, judged from its directory before anything is written.

A ZIP's central directory declares each member's packed and unpacked size; Python's ``zipfile``
never writes more than a member declares (a member that lies fails its CRC check instead), so
checking the declared sizes first bounds what reaches the disk. The limits are settings
(``registry.config.Limits``); every refusal names the one it met, so an operator knows what to
raise if the file is genuine.
"""

from __future__ import annotations

import zipfile

from registry.config import Limits

RATIO_FLOOR = 1024 * 1024  # below 1 MiB unpacked, a high ratio (a column of zeros) is harmless


def archive_problem(archive: zipfile.ZipFile, limits: Limits) -> str | None:
    """Why ``archive`` may not be unpacked (member count, unpacked size, ratio), or ``None``."""
    members = [info for info in archive.infolist() if not info.is_dir()]
    if len(members) > limits.zip_max_members:
        return (
            f"the ZIP holds {len(members):,} files, more than the {limits.zip_max_members:,} "
            "allowed (JASYL_ZIP_MAX_MEMBERS)"
        )
    unpacked = sum(info.file_size for info in members)
    if unpacked > limits.zip_max_bytes:
        return (
            f"the ZIP unpacks to {megabytes(unpacked)}, more than the "
            f"{megabytes(limits.zip_max_bytes)} allowed (JASYL_ZIP_MAX_BYTES)"
        )
    packed = max(1, sum(info.compress_size for info in members))
    if unpacked > RATIO_FLOOR and unpacked / packed > limits.zip_max_ratio:
        return (
            f"the ZIP unpacks {unpacked / packed:,.0f} times its size ({megabytes(packed)} to "
            f"{megabytes(unpacked)}), more than the {limits.zip_max_ratio}× a survey reaches "
            "(JASYL_ZIP_MAX_RATIO): it looks like a ZIP bomb"
        )
    return None


def megabytes(size: int) -> str:
    """A size as people read it in an error: ``1.1 MB``, ``1,024.0 MB``."""
    return f"{size / 1_000_000:,.1f} MB"
