"""Per-image results on disk, keyed so that a stale result cannot be served.

This module stores arrays and names them; it knows nothing of what they mean.
The lazy activations (``_activations.py``) decide what to store: for every
(image, forward configuration, layer), the statistics of ``_stats.py`` (mean,
max, the upper triangle of ``F^T F``, the location count, a fixed sample of
local descriptors), and per-image results such as VLAD codes under a key that
names the function that made them (for VLAD, the dictionary itself).

Keys are SHA-256 digests of: the image's content (the file's bytes, or the
array's bytes, dtype and shape), the forward configuration's fingerprint
(every field of ``Preprocessing``, the weights by their content), the layer,
what is stored, and the cache format version. Changing any of them changes
the key. Each entry also holds its own key, so an entry copied or renamed
under another key is noticed and recomputed, never served. Writes go to a
temporary file in the same folder, then ``os.replace``: readers see a whole
entry or none, so parallel workers and a study killed half way are both safe
(a study run again reuses what it wrote).
"""

import functools
import hashlib
import json
import os
import warnings
import zipfile
from pathlib import Path

import numpy as np

from .. import _atomic, io
from ..exceptions import InputError

#: Bumped whenever what an entry holds, or how it is computed, changes
#: (including the rule of io.find_banner_height, which crop="auto" keys by name).
#: 2: entries hold their own key.
#: 3: the descriptor sample is drawn without replacement (numpy's choice), so
#: that a tiled image draws it without a permutation of all its locations.
CACHE_VERSION = 3

#: The name under which an entry stores its own key.
_KEY = "__key__"


# -- fingerprints ------------------------------------------------------------


def sha256_file(path):
    """SHA-256 hex digest of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@functools.lru_cache(maxsize=100_000)
def _memo_sha256(path, size, mtime_ns, ctime_ns, inode):
    # A rewritten file changes its ctime and usually its inode, and neither can
    # be set back by a user (unlike mtime, which os.utime restores): so a file
    # rewritten in place is hashed again, while the digest itself is of the
    # content, so a copied or touched file still hits.
    return sha256_file(path)


def file_fingerprint(path):
    """SHA-256 of a file's content, memoized per process while the file is unchanged.

    "Unchanged" means the same size, mtime, ctime and inode: a file rewritten
    by any means, even with its old mtime restored, is hashed again.
    """
    path = os.path.abspath(path)
    stat = os.stat(path)
    return _memo_sha256(path, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino)


def image_fingerprint(item):
    """SHA-256 of an image's content: a file's bytes, or an array's bytes."""
    if io.is_image_path(item):
        return file_fingerprint(item)
    array = np.ascontiguousarray(item)
    digest = hashlib.sha256(f"{array.dtype.str}{array.shape}".encode())
    digest.update(array.tobytes())
    return digest.hexdigest()


def entry_key(image_fp, forward_fp, layer, what):
    """The file name (a hex digest) of one cached result.

    ``forward_fp`` is the forward configuration's fingerprint, a JSON-able dict.
    """
    parts = [CACHE_VERSION, image_fp, forward_fp, layer, what]
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


# -- storage -----------------------------------------------------------------


class DiskCache:
    """A folder of ``.npz`` entries, written atomically."""

    #: Entries serve later sessions: on a miss, store every statistic.
    keeps_everything = True

    def __init__(self, directory):
        self.directory = Path(directory)
        self.damaged = []  # (path, error) of entries found damaged: see warn_damaged

    def warn_damaged(self):
        """One warning for the damaged entries met since the last call, then forget them."""
        if self.damaged:
            (path, error), n = self.damaged[0], len(self.damaged)
            warnings.warn(f"recomputing {n} damaged cache entr{'y' if n == 1 else 'ies'} in "
                          f"'{self.directory}' (first: '{path}': {error})", stacklevel=3)
            self.damaged = []

    def _path(self, key):
        return self.directory / key[:2] / f"{key}.npz"

    def load(self, key, names=None):
        """The arrays ``names`` (None: all) of entry ``key``, or None if it is missing."""
        path = self._path(key)
        try:
            with np.load(path) as data:
                if _KEY not in data.files or str(data[_KEY]) != key:
                    raise InputError("the entry belongs to another key (copied or renamed)")
                names = [name for name in data.files if name != _KEY] if names is None else names
                if not set(names) <= set(data.files):
                    return None
                return {name: data[name] for name in names}
        except FileNotFoundError:
            return None
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
            # Only a file damaged outside this library gets here (writes are
            # atomic); it is recomputed and replaced, and the user told once for all
            # (warn_damaged), not once per entry.
            self.damaged.append((path, exc))
            return None

    def has(self, key):
        return self._path(key).is_file()

    def store(self, key, arrays, *, compressed=()):
        """Write entry ``key`` atomically; ``compressed`` names the arrays to deflate."""
        _atomic.save_npz(self._path(key), {**arrays, _KEY: np.str_(key)}, compressed=compressed)


class MemoryStore:
    """Entries in a dict, with :class:`DiskCache`'s methods: results of one pass
    shared by the consumers of several layers (see ``Activations.in_memory``)."""

    #: Only what was asked is computed and kept.
    keeps_everything = False

    def __init__(self):
        self._entries = {}

    def warn_damaged(self):
        """Nothing: entries in memory are never damaged."""

    def load(self, key, names=None):
        """The arrays ``names`` (None: all) of entry ``key``, or None if any is missing."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        names = list(entry) if names is None else names
        if not set(names) <= set(entry):
            return None
        return {name: entry[name] for name in names}

    def has(self, key):
        return key in self._entries

    def store(self, key, arrays, *, compressed=()):
        """Keep entry ``key`` (``compressed`` is ignored: nothing is written)."""
        self._entries[key] = dict(arrays)
