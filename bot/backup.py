"""An online backup of the SQLite database, safe while the bot is running.

SQLite's backup API copies the database page by page through a connection of its own. The
database is in WAL mode, so the copy reads one consistent snapshot while the bot goes on writing:
nothing is locked out, and the copy holds every transaction committed before it began. Copying
the file with `cp` instead can catch a half-written page or miss what still sits in the `-wal` file.

The copy is written beside its destination and renamed into place only once it is complete and
checked, so a crash or a full disk never leaves a truncated file under the backup's name.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot.errors import BackupError


@dataclass(frozen=True, slots=True)
class Backup:
    """A finished backup."""

    path: Path
    size: int
    schema_version: int


def backup(database: Path, target: Path, *, now: datetime | None = None) -> Backup:
    """Copy the live `database` to `target` (a file, or a folder to put a dated file in)."""
    if not database.is_file():
        raise BackupError(f"no database at {database}")
    if target.is_dir():
        stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
        target = target / f"{database.stem}-{stamp}{database.suffix}"
    if target.resolve() == database.resolve():
        raise BackupError("the backup would overwrite the database itself")
    partial = target.with_name(f".{target.name}.partial")
    try:
        source = sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True)
        try:
            source.execute("PRAGMA busy_timeout = 5000")
            with contextlib.closing(sqlite3.connect(partial)) as copy:
                source.backup(copy)  # all pages in one step: one consistent snapshot
                checked = copy.execute("PRAGMA quick_check").fetchone()
                if checked is None or checked[0] != "ok":
                    raise BackupError(f"the copy failed its check: {checked}")
                row = copy.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
        finally:
            source.close()
        os.replace(partial, target)
    except sqlite3.Error as exc:
        raise BackupError(f"cannot back up {database}: {exc}") from None
    except OSError as exc:
        raise BackupError(f"cannot write {target}: {exc.strerror or exc}") from None
    finally:
        partial.unlink(missing_ok=True)
    version = int(row[0]) if row and row[0] is not None else 0
    return Backup(target, target.stat().st_size, version)
