"""Atomic file replacement: a temporary file in the same directory, fsync, rename."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path

from wai.errors import ConfigError

NO_ROOM = (errno.ENOSPC, errno.EDQUOT)


def write_atomic(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Replace `path` with `data` so that a reader sees either the old or the new file."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as tmp:
            os.fchmod(tmp.fileno(), mode)
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def write_refused(path: Path, error: OSError, variable: str) -> ConfigError:
    """A failed write in wai's own directories (a full or read-only disk, no permission) as the
    configuration error it is: the path, why, and where else wai could write (`variable`)."""
    why = error.strerror or str(error)
    if error.errno in NO_ROOM:
        hint = f"free some space there, or set {variable} to a directory on another disk"
    elif error.errno == errno.EFBIG:
        hint = "the file would be larger than this process may write (see `ulimit -f`)"
    elif error.errno == errno.EROFS:
        hint = f"that file system is read-only; set {variable} to a writable directory"
    else:
        where = path if path.is_dir() else path.parent
        hint = f"make {where} writable, or set {variable} to a writable directory"
    return ConfigError(f"cannot write {path}: {why}", hint=hint)
