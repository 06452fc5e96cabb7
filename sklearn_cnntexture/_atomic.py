"""Whole-or-nothing file writes, shared by the cache, the reports and the CLI.

A file is written under a hidden temporary name in its own folder, then
renamed with :func:`os.replace`, which is atomic within a file system: a
reader (another joblib worker, a later run) sees the old file or the whole
new one, never half of it, and a run killed mid-write leaves no truncated
file under the final name.
"""

import contextlib
import io
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; on success it becomes ``path``.

    The parent folder is created if need be. On any exception (including
    KeyboardInterrupt) the temporary file is removed and ``path`` is untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        # mkstemp makes the file private (0600); give it the usual permissions.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_text(path, text):
    """Write ``text`` (UTF-8) to ``path`` whole or not at all; return ``path``."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def save_npz(path, arrays, *, compressed=()):
    """Write arrays to the ``.npz`` file ``path`` whole or not at all.

    The arrays named in ``compressed`` are deflated, the others stored as
    they are: what compresses well (sparse ReLU outputs) costs less disk,
    what does not (dense Gram matrices) stays as fast to read as possible.
    ``numpy.load`` reads both.
    """
    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w") as archive:
        for name, array in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.asanyarray(array), allow_pickle=False)
            deflate = name in compressed
            archive.writestr(
                f"{name}.npy",
                buffer.getvalue(),
                compress_type=zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED,
                compresslevel=1 if deflate else None,
            )
