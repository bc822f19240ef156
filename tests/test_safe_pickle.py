"""The restricted .npy/pickle reader: honest np.save files load, tampered ones run nothing."""
from __future__ import annotations

import base64
import builtins
import io
import os
import pickle

import numpy as np
import pytest

from realnet_plugins.errors import DataFormatError, MissingFileError, UnsafePickleError
from realnet_plugins.safe_pickle import load_npy_dict, load_pickled_npy

#: ``np.save`` of {'preprocessed_eeg_data': arange(24)/8 (1,2,3,4) float64, 'ch_names': ['Pz','P3'],
#: 'times': [-0.2, -0.19], 'n': int64(7)} written by numpy 2.4.6 (pickle protocol 4, globals
#: spelled ``numpy._core.multiarray``).
NUMPY2_NPY = base64.b64decode(
    "k05VTVBZAQB2AHsnZGVzY3InOiAnfE8nLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoKSwgfSAgICAgICAg"
    "ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAqABJU+AgAAAAAAAIwWbnVt"
    "cHkuX2NvcmUubXVsdGlhcnJheZSMDF9yZWNvbnN0cnVjdJSTlIwFbnVtcHmUjAduZGFycmF5lJOUSwCFlEMBYpSHlFKUKEsB"
    "KWgDjAVkdHlwZZSTlIwCTziUiYiHlFKUKEsDjAF8lE5OTkr/////Sv////9LP3SUYoldlH2UKIwVcHJlcHJvY2Vzc2VkX2Vl"
    "Z19kYXRhlGgCaAVLAIWUaAeHlFKUKEsBKEsBSwJLA0sEdJRoC4wCZjiUiYiHlFKUKEsDjAE8lE5OTkr/////Sv////9LAHSU"
    "YolDwAAAAAAAAAAAAAAAAAAAwD8AAAAAAADQPwAAAAAAANg/AAAAAAAA4D8AAAAAAADkPwAAAAAAAOg/AAAAAAAA7D8AAAAA"
    "AADwPwAAAAAAAPI/AAAAAAAA9D8AAAAAAAD2PwAAAAAAAPg/AAAAAAAA+j8AAAAAAAD8PwAAAAAAAP4/AAAAAAAAAEAAAAAA"
    "AAABQAAAAAAAAAJAAAAAAAAAA0AAAAAAAAAEQAAAAAAAAAVAAAAAAAAABkAAAAAAAAAHQJR0lGKMCGNoX25hbWVzlF2UKIwC"
    "UHqUjAJQM5RljAV0aW1lc5RoAmgFSwCFlGgHh5RSlChLAUsChZRoGolDEJqZmZmZmcm/UrgehetRyL+UdJRijAFulGgAjAZz"
    "Y2FsYXKUk5RoC4wCaTiUiYiHlFKUKEsDaBtOTk5K/////0r/////SwB0lGJDCAcAAAAAAAAAlIaUUpR1YXSUYi4="
)


def _rich_dict() -> dict:
    rng = np.random.default_rng(0)
    return {
        "preprocessed_eeg_data": rng.normal(size=(3, 2, 17, 10)),
        "float32": rng.normal(size=(4, 5)).astype(np.float32),
        "int16": np.arange(6, dtype=np.int16).reshape(2, 3),
        "fortran": np.asfortranarray(rng.normal(size=(3, 4))),
        "bools": np.array([True, False]),
        "ch_names": ["Pz", "P3", "POz"],
        "times": np.arange(10) / 100 - 0.2,
        "nested": {"a": (1, 2.5, None), "b": [b"raw", "text", True]},
        "scalar": np.float32(1.25),
        "int_scalar": np.int64(-3),
        "empty": np.zeros((0, 3)),
    }


def _assert_same(a, b) -> None:
    assert type(a) is type(b)
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape
        assert a.flags.f_contiguous == b.flags.f_contiguous
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for key in a:
            _assert_same(a[key], b[key])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _assert_same(x, y)
    elif isinstance(a, np.generic):
        assert a.dtype == b.dtype and a == b
    else:
        assert a == b


def _write_object_npy(path, payload: bytes) -> None:
    """An .npy header for a 0-d object array followed by ``payload`` (a pickle)."""
    with open(path, "wb") as f:
        np.lib.format.write_array_header_1_0(f, {"descr": "|O", "fortran_order": False, "shape": ()})
        f.write(payload)


def test_np_save_dict_round_trips_with_dtypes_shapes_and_order(tmp_path):
    original = _rich_dict()
    path = tmp_path / "d.npy"
    np.save(path, original)
    loaded = load_npy_dict(path)
    _assert_same(loaded, np.load(path, allow_pickle=True).item())
    _assert_same(loaded, original)


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_every_pickle_protocol_of_a_dict_of_arrays_loads(tmp_path, protocol):
    original = _rich_dict()
    path = tmp_path / "d.npy"
    _write_object_npy(path, pickle.dumps(np.array(original, dtype=object), protocol=protocol))
    _assert_same(load_npy_dict(path), original)


def test_file_written_by_numpy_2_loads(tmp_path):
    path = tmp_path / "numpy2.npy"
    path.write_bytes(NUMPY2_NPY)
    loaded = load_npy_dict(path)
    assert list(loaded) == ["preprocessed_eeg_data", "ch_names", "times", "n"]
    np.testing.assert_array_equal(loaded["preprocessed_eeg_data"], np.arange(24.0).reshape(1, 2, 3, 4) / 8)
    assert loaded["preprocessed_eeg_data"].dtype == np.float64
    assert loaded["ch_names"] == ["Pz", "P3"]
    np.testing.assert_array_equal(loaded["times"], [-0.2, -0.19])
    assert loaded["n"] == 7 and loaded["n"].dtype == np.int64


@pytest.mark.parametrize("module", [b"numpy.core", b"numpy._core"])
def test_numpy_1_and_numpy_2_module_spellings_both_load(tmp_path, module):
    original = _rich_dict()
    payload = pickle.dumps(np.array(original, dtype=object), protocol=3)
    written = b"numpy._core" if b"numpy._core.multiarray\n" in payload else b"numpy.core"
    respelled = payload.replace(written + b".multiarray\n", module + b".multiarray\n")
    assert respelled.count(module + b".multiarray\n") >= 2  # _reconstruct and scalar
    path = tmp_path / "respelled.npy"
    _write_object_npy(path, respelled)
    _assert_same(load_npy_dict(path), original)


class _Payload:
    """Pickles as a call of ``function(*args)``: what a tampered release file would carry."""

    def __init__(self, function, *args):
        self.function, self.args = function, args

    def __reduce__(self):
        return self.function, self.args


def _payloads(marker):
    return {
        "os.mkdir": _Payload(os.mkdir, str(marker)),
        "builtins.exec": _Payload(builtins.exec, f"open({str(marker)!r}, 'w').close()"),
        "builtins.eval": _Payload(builtins.eval, f"open({str(marker)!r}, 'w').close()"),
        "os.system": _Payload(os.system, f"touch {marker}"),
    }


@pytest.mark.parametrize("kind", ["os.mkdir", "builtins.exec", "builtins.eval", "os.system"])
def test_malicious_pickle_is_refused_and_runs_nothing(tmp_path, kind):
    marker = tmp_path / "marker"
    payload = _payloads(marker)[kind]
    path = tmp_path / "evil.npy"
    np.save(path, {"preprocessed_eeg_data": np.zeros(3), "ch_names": ["Pz"], "times": payload}, allow_pickle=True)
    with pytest.raises(UnsafePickleError) as err:
        load_npy_dict(path)
    assert payload.function.__name__ in str(err.value)
    assert not marker.exists()

    # The payload is live: an unrestricted load does run it.
    np.load(path, allow_pickle=True)
    assert marker.exists()


def test_codecs_encode_with_another_codec_is_refused(tmp_path):
    payload = b"\x80\x02c_codecs\nencode\nX\x03\x00\x00\x00abcX\x05\x00\x00\x00rot13\x86R."
    assert pickle.loads(payload) == "nop"  # what the unrestricted unpickler would compute
    path = tmp_path / "codec.npy"
    _write_object_npy(path, payload)
    with pytest.raises(UnsafePickleError, match="latin-1"):
        load_pickled_npy(path)


def test_truncated_payload_is_a_clear_format_error(tmp_path):
    path = tmp_path / "full.npy"
    np.save(path, _rich_dict())
    truncated = tmp_path / "truncated.npy"
    truncated.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(DataFormatError, match="truncated or corrupt"):
        load_npy_dict(truncated)


def test_truncated_header_is_a_clear_format_error(tmp_path):
    path = tmp_path / "full.npy"
    np.save(path, _rich_dict())
    truncated = tmp_path / "truncated.npy"
    truncated.write_bytes(path.read_bytes()[:40])
    with pytest.raises(DataFormatError, match="truncated or corrupt"):
        load_npy_dict(truncated)


def test_plain_numeric_npy_is_refused_with_advice(tmp_path):
    path = tmp_path / "plain.npy"
    np.save(path, np.zeros((2, 3)))
    with pytest.raises(DataFormatError, match=r"plain float64 array of shape \(2, 3\)"):
        load_npy_dict(path)


def test_non_npy_file_is_refused(tmp_path):
    path = tmp_path / "not.npy"
    buffer = io.BytesIO()
    pickle.dump({"a": 1}, buffer)
    path.write_bytes(buffer.getvalue())
    with pytest.raises(DataFormatError, match="not an .npy file"):
        load_npy_dict(path)


def test_pickled_non_dict_is_refused_by_load_npy_dict(tmp_path):
    path = tmp_path / "list.npy"
    np.save(path, np.array([["a"], 1], dtype=object))
    with pytest.raises(DataFormatError, match="expected a dict"):
        load_npy_dict(path)
    assert load_pickled_npy(path).tolist() == [["a"], 1]


def test_missing_file_is_reported(tmp_path):
    with pytest.raises(MissingFileError):
        load_npy_dict(tmp_path / "absent.npy")
