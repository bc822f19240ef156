"""Read ``.npy`` files that hold a pickled dict without running code the file carries.

The THINGS-EEG2 release stores each file as ``np.save`` of a Python dict: an ``.npy`` header for a
0-d object array followed by a pickle. ``np.load(..., allow_pickle=True)`` would call whatever
function the pickle names, so a tampered file could run arbitrary code. :func:`load_npy_dict`
reads the header itself and feeds the pickle to an unpickler that resolves only the globals
listed below; any other global raises :class:`~realnet_plugins.errors.UnsafePickleError` before
anything is called.

Admitted values: dict, list, tuple, str, bytes, int, float, bool, None (all built from
pickle opcodes, no global needed), and numpy arrays, dtypes and scalars through numpy's own
reconstruct functions. The globals numpy pickles reference (found by disassembling ``np.save``
output of numpy 1.26 (pickle protocol 3) and numpy 2.x (protocol 4), and ``pickle.dumps`` at
protocols 2-5):

==============================  ==========================================================
global                          written by
==============================  ==========================================================
``numpy.core.multiarray``       numpy 1.x: ``_reconstruct`` (arrays), ``scalar`` (scalars)
``numpy._core.multiarray``      numpy 2.x: the same two functions
``numpy.ndarray``               argument of ``_reconstruct``
``numpy.dtype``                 every array's and scalar's dtype
``numpy.core.numeric``          numpy 1.x, protocol 5 only: ``_frombuffer``
``numpy._core.numeric``         numpy 2.x, protocol 5 only: ``_frombuffer``
``_codecs.encode``              protocol 2 only: raw array bytes as latin-1 text
``__builtin__.bytes``           protocol 2 only: empty bytes (an empty array's data)
==============================  ==========================================================

Each admitted name is bound to the object the *running* numpy uses for it (taken from
``__reduce__`` of a live array, scalar and dtype), so a file written by numpy 1.x loads under
numpy 2.x and the other way round, without touching numpy's deprecated ``numpy.core`` alias.
``_codecs.encode`` is bound to a wrapper that accepts only the latin-1 codec.
"""
from __future__ import annotations

import codecs
import os
import pickle
from pathlib import Path
from typing import Any, BinaryIO, Callable

import numpy as np
from numpy.lib import format as npy_format

from realnet_plugins.errors import DataFormatError, MissingFileError, UnsafePickleError

__all__ = ["load_npy_dict", "load_pickled_npy", "RestrictedUnpickler", "ALLOWED_GLOBALS"]


def _latin1_encode(text: str, encoding: str) -> bytes:
    """``_codecs.encode(text, "latin1")`` only: how numpy's protocol-2 pickles store raw bytes."""
    try:
        codec = codecs.lookup(encoding).name
    except (LookupError, TypeError):
        codec = None
    if codec != "iso8859-1" or not isinstance(text, str):
        raise UnsafePickleError(
            f"pickle asks for _codecs.encode of a {type(text).__name__} with codec {encoding!r}; "
            "only str with the latin-1 codec is admitted (numpy writes raw array bytes that way). "
            "Nothing was executed. The file was not written by np.save."
        )
    return text.encode("latin1")


def _numpy_globals() -> dict[str, Callable[..., Any]]:
    """The running numpy's reconstruct callables, found from live objects' ``__reduce__``."""
    reconstruct = np.ndarray((0,), dtype=np.float64).__reduce__()[0]
    scalar = np.float64(0.0).__reduce__()[0]
    frombuffer = np.zeros(2).__reduce_ex__(5)[0]
    return {"_reconstruct": reconstruct, "scalar": scalar, "_frombuffer": frombuffer}


_NUMPY = _numpy_globals()

#: (module, name) as written in the pickle -> the object it is resolved to.
ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {
    ("numpy.core.multiarray", "_reconstruct"): _NUMPY["_reconstruct"],
    ("numpy._core.multiarray", "_reconstruct"): _NUMPY["_reconstruct"],
    ("numpy.core.multiarray", "scalar"): _NUMPY["scalar"],
    ("numpy._core.multiarray", "scalar"): _NUMPY["scalar"],
    ("numpy.core.numeric", "_frombuffer"): _NUMPY["_frombuffer"],
    ("numpy._core.numeric", "_frombuffer"): _NUMPY["_frombuffer"],
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): _latin1_encode,
    ("__builtin__", "bytes"): bytes,
    ("builtins", "bytes"): bytes,
}


class RestrictedUnpickler(pickle.Unpickler):
    """A :class:`pickle.Unpickler` that resolves only :data:`ALLOWED_GLOBALS`.

    Raises:
        UnsafePickleError: on the first global outside the allowed set; the pickle stops there and
            nothing it names is imported or called.
    """

    def find_class(self, module: str, name: str) -> Any:
        try:
            return ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f"refused to load global {module}.{name}: the file asks to build an object outside "
                "the admitted set (dict, list, tuple, str, bytes, numbers, None, numpy arrays). "
                "Nothing was executed. The file is not a plain np.save of a dict of arrays; "
                "re-download it from the original release."
            ) from None

    def persistent_load(self, pid: Any) -> Any:
        raise UnsafePickleError(f"refused persistent id {pid!r}: np.save never writes one.")


def _read_object_npy_header(stream: BinaryIO, path: Path) -> None:
    """Consume the ``.npy`` magic and header; require an object (pickled) array."""
    try:
        version = npy_format.read_magic(stream)
    except ValueError as err:
        raise DataFormatError(
            f"{path} is not an .npy file (bad magic string: {err}). Expected a file written by np.save."
        ) from err
    try:
        if version == (1, 0):
            shape, _fortran_order, dtype = npy_format.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, _fortran_order, dtype = npy_format.read_array_header_2_0(stream)
        else:
            raise DataFormatError(
                f"{path}: .npy format version {version[0]}.{version[1]} is not supported "
                "(expected 1.0 or 2.0, which np.save writes for pickled objects)."
            )
    except (ValueError, SyntaxError, EOFError) as err:
        raise DataFormatError(f"{path}: unreadable .npy header ({err}); the file is truncated or corrupt.") from err
    if dtype != np.dtype(object):
        raise DataFormatError(
            f"{path} holds a plain {dtype} array of shape {shape}, not a pickled object. "
            "Read it with np.load(path) (no pickle needed)."
        )


def load_pickled_npy(path: str | os.PathLike) -> Any:
    """Load the object stored by ``np.save(path, obj)`` for a non-array ``obj``, safely.

    Args:
        path: an ``.npy`` file whose header declares an object array.

    Returns:
        The stored object: ``arr.item()`` for the 0-d object array np.save writes for a dict,
        else the object array itself.

    Raises:
        MissingFileError: the file does not exist.
        DataFormatError: not an .npy file, a plain (non-object) array, or a truncated/corrupt pickle.
        UnsafePickleError: the pickle names a global outside :data:`ALLOWED_GLOBALS`.
    """
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"{path} does not exist (expected an .npy file written by np.save).")
    with open(path, "rb", buffering=1 << 20) as stream:
        _read_object_npy_header(stream, path)
        try:
            obj = RestrictedUnpickler(stream, encoding="latin1").load()
        except UnsafePickleError:
            raise
        except (EOFError, pickle.UnpicklingError, ValueError, TypeError, IndexError, MemoryError) as err:
            raise DataFormatError(
                f"{path}: the pickled payload is truncated or corrupt ({type(err).__name__}: {err}). "
                "Re-download the file."
            ) from err
    if isinstance(obj, np.ndarray) and obj.dtype == object and obj.ndim == 0:
        return obj.item()
    return obj


def load_npy_dict(path: str | os.PathLike) -> dict:
    """Load a dict stored with ``np.save(path, some_dict)``, without running code from the file.

    Equivalent to ``np.load(path, allow_pickle=True).item()`` for honest files; dtypes, shapes and
    byte order of the stored arrays are kept.

    Args:
        path: the ``.npy`` file.

    Returns:
        The stored dict.

    Raises:
        MissingFileError: the file does not exist.
        DataFormatError: the file is not an object ``.npy``, is truncated, or holds no dict.
        UnsafePickleError: the pickle names a global outside :data:`ALLOWED_GLOBALS`.
    """
    obj = load_pickled_npy(path)
    if not isinstance(obj, dict):
        raise DataFormatError(
            f"{path} holds a pickled {type(obj).__name__}, expected a dict (np.save of a dict)."
        )
    return obj
