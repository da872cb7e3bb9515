"""Files that hold personal data or keys: the data directory, the SQLite file and its `-wal` and
`-shm`, the local key files. Owner-only (directories 0700, files 0600), created that way rather
than tightened afterwards, and tightened when an older version left them open to others.
"""

import contextlib
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def tighten(path: Path, mode: int) -> None:
    """Take away every right beyond `mode` (group and others) from a file or directory this
    user owns; a missing path, or one another user owns (a volume mounted by the operator), is
    left as it is."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return
    current = stat.S_IMODE(st.st_mode)
    if current & ~mode and st.st_uid == os.getuid():
        os.chmod(path, current & mode)


def private_dir(path: Path) -> Path:
    """The directory, created owner-only (with the parents it needs) when missing, and
    tightened when it exists."""
    for missing in [p for p in (*reversed(path.parents), path) if not p.exists()]:
        missing.mkdir(mode=DIR_MODE, exist_ok=True)
    tighten(path, DIR_MODE)
    return path


def private_sqlite(path: Path, data_dir: Path) -> None:
    """Create the SQLite file owner-only before SQLite opens it (SQLite gives the `-wal` and
    `-shm` files it creates the database file's rights), and tighten an existing one."""
    if path.parent == data_dir or not path.parent.exists():
        private_dir(path.parent)
    if not path.exists():
        # Only a file no connection has open yet: closing a descriptor of an open SQLite file
        # drops the POSIX locks of every connection of this process on it (sqlite.org,
        # "How To Corrupt", 2.2), and another process may then reset the WAL under them.
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE))
    for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        tighten(name, FILE_MODE)


def read_or_create_secret(path: Path, make: Callable[[], str]) -> str:
    """The secret kept in `path`, written on first use with `make()`. Processes starting
    together each write a complete temporary file and hard-link it into place: exactly one link
    succeeds, and every process reads the winner's secret, never a half-written file."""
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        private_dir(path.parent)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(fd, "w") as f:
                f.write(make())
                f.flush()
                os.fsync(f.fileno())
            with contextlib.suppress(FileExistsError):  # another process won: read its key
                os.link(temporary, path)
        finally:
            os.unlink(temporary)
        text = path.read_text().strip()
    tighten(path, FILE_MODE)
    if not text:
        msg = f"{path} est vide : supprimez-le pour qu'une nouvelle clé soit créée"
        raise ValueError(msg)
    return text
