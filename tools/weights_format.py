"""Writer (and reader, for tests) of scribe's weights format; see src/models/weights.h.

Usage:
    from weights_format import write_weights
    write_weights(path, kind=1, config=[...64 ints...], name="mt3-small",
                  tensors=[("encoder.proj", array, "f32"), ...])
Float config values are passed through `f32_bits(x)`.
"""
import struct

import numpy as np

MAGIC = b"SCRIBEW\0"
VERSION = 1
HEADER_SIZE = 512
RECORD_SIZE = 128
CONFIG_LEN = 64
DTYPES = {"f32": 0, "f16": 1, "q8": 2}
KIND_MT3 = 1
KIND_ACOUSTIC = 2


def f32_bits(x):
    """The int32 whose bits are the IEEE-754 float32 `x` (for float config entries)."""
    return struct.unpack("<i", struct.pack("<f", float(x)))[0]


def quantize_q8(a):
    """Per-column (last dimension) symmetric int8 quantisation: returns (int8 array, float32 scales)."""
    a = np.asarray(a, dtype=np.float32)
    cols = a.shape[-1]
    flat = a.reshape(-1, cols)
    scales = np.abs(flat).max(axis=0) / 127.0
    scales[scales == 0] = 1.0
    q = np.clip(np.rint(flat / scales), -127, 127).astype(np.int8)
    return q.reshape(a.shape), scales.astype(np.float32)


def _encode(array, dtype):
    a = np.asarray(array)
    if dtype == "f32":
        return np.ascontiguousarray(a, dtype="<f4").tobytes()
    if dtype == "f16":
        return np.ascontiguousarray(a, dtype="<f2").tobytes()
    if dtype == "q8":
        q, s = quantize_q8(a)
        data = q.tobytes()
        data += b"\0" * ((-len(data)) % 4)
        return data + s.astype("<f4").tobytes()
    raise ValueError(f"unknown dtype {dtype}")


def write_weights(path, kind, config, name, tensors):
    if len(config) > CONFIG_LEN:
        raise ValueError("config longer than 64 entries")
    cfg = list(config) + [0] * (CONFIG_LEN - len(config))
    header = bytearray(HEADER_SIZE)
    struct.pack_into("<8sIIII", header, 0, MAGIC, VERSION, kind, len(tensors), HEADER_SIZE)
    struct.pack_into("<64i", header, 24, *cfg)
    nb = name.encode()[:63]
    header[280:280 + len(nb)] = nb
    records = bytearray()
    blobs = []
    offset = HEADER_SIZE + RECORD_SIZE * len(tensors)
    for tname, array, dtype in tensors:
        a = np.asarray(array)
        if not 1 <= a.ndim <= 4:
            raise ValueError(f"{tname}: ndim {a.ndim} not in 1..4")
        offset += (-offset) % 64
        data = _encode(a, dtype)
        rec = bytearray(RECORD_SIZE)
        tb = tname.encode()
        if len(tb) >= 80:
            raise ValueError(f"tensor name too long: {tname}")
        rec[:len(tb)] = tb
        shape = list(a.shape) + [0] * (4 - a.ndim)
        struct.pack_into("<II4IQQ", rec, 80, DTYPES[dtype], a.ndim, *shape, offset, len(data))
        records += rec
        blobs.append((offset, data))
        offset += len(data)
    with open(path, "wb") as f:
        f.write(header)
        f.write(records)
        pos = HEADER_SIZE + len(records)
        for off, data in blobs:
            f.write(b"\0" * (off - pos))
            f.write(data)
            pos = off + len(data)


DTYPE_NAMES = {v: k for k, v in DTYPES.items()}


def _parse(path):
    """Header and tensor records of a weights file: (kind, config, name, [(tensor name, dtype code,
    float32 array dequantised)]) in file order; the file is read once."""
    with open(path, "rb") as f:
        b = f.read()
    magic, version, kind, n, hsize = struct.unpack_from("<8sIIII", b, 0)
    assert magic == MAGIC and version == VERSION and hsize == HEADER_SIZE
    config = list(struct.unpack_from("<64i", b, 24))
    name = b[280:344].split(b"\0")[0].decode()
    tensors = []
    for i in range(n):
        r = HEADER_SIZE + i * RECORD_SIZE
        tname = b[r:r + 80].split(b"\0")[0].decode()
        dtype, ndim, *rest = struct.unpack_from("<II4IQQ", b, r + 80)
        shape = tuple(rest[:ndim])
        off = rest[4]
        numel = int(np.prod(shape))
        if dtype == 0:
            a = np.frombuffer(b, "<f4", numel, off).reshape(shape)
        elif dtype == 1:
            a = np.frombuffer(b, "<f2", numel, off).astype(np.float32).reshape(shape)
        else:
            q = np.frombuffer(b, np.int8, numel, off).astype(np.float32).reshape(-1, shape[-1])
            s = np.frombuffer(b, "<f4", shape[-1], off + numel + (-numel) % 4)
            a = (q * s).reshape(shape)
        tensors.append((tname, dtype, a))
    return kind, config, name, tensors


def read_weights_raw(path):
    """Returns (kind, config, name, [(tensor name, array, dtype name)]) in file order, arrays as
    stored: f32 and f16 exactly, q8 dequantised (write_weights re-quantises it to the same values)."""
    kind, config, name, tensors = _parse(path)
    return kind, config, name, [(t, a.astype("<f2") if d == 1 else a, DTYPE_NAMES[d]) for t, d, a in tensors]


def read_weights(path):
    """Returns (kind, config, name, {tensor name: float32 array}) — dequantised."""
    kind, config, name, tensors = _parse(path)
    return kind, config, name, {t: a for t, _, a in tensors}
