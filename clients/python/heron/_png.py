"""Images to PNG bytes: PNG as is, numpy arrays (encoded here with zlib + struct), PIL images."""
from __future__ import annotations

import io
import struct
import zlib
from typing import Any, Tuple

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> Tuple[int, int]:
    """(width, height) from the IHDR chunk; ValueError when it is not a PNG"""
    if len(data) < 24 or not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR":
        raise ValueError("not PNG bytes")
    w, h = struct.unpack(">II", data[16:24])
    return w, h


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def encode_png(rows: bytes, width: int, height: int, channels: int) -> bytes:
    """8-bit PNG from raw rows (height * width * channels bytes, row-major)"""
    color = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    stride = width * channels
    raw = b"".join(b"\x00" + rows[y * stride:(y + 1) * stride] for y in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, color, 0, 0, 0)
    return PNG_SIGNATURE + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(raw, 6)) + _chunk(b"IEND", b"")


def _from_array(arr: Any) -> bytes:
    import numpy as np  # only reached when a numpy array was passed

    a = np.asarray(arr)
    if a.ndim == 3 and a.shape[0] in (1, 3, 4) and a.shape[2] not in (1, 2, 3, 4):
        a = np.transpose(a, (1, 2, 0))  # CHW (torch layout) -> HWC
    if a.ndim == 2:
        a = a[:, :, None]
    if a.ndim != 3 or a.shape[2] not in (1, 2, 3, 4):
        raise ValueError(f"an image array must be HxW, HxWxC or CxHxW with C in 1..4, not shape {a.shape}")
    if a.dtype == np.bool_:
        a = a.astype(np.uint8) * 255
    elif a.dtype.kind == "f":
        a = np.nan_to_num(a.astype(np.float64), nan=0.0, posinf=1.0, neginf=0.0)
        if a.size and a.min() >= 0.0 and a.max() <= 1.0:
            a = a * 255.0
        a = np.clip(np.rint(a), 0, 255).astype(np.uint8)
    elif a.dtype != np.uint8:
        a = np.clip(a, 0, 255).astype(np.uint8)
    h, w, c = a.shape
    if h < 1 or w < 1:
        raise ValueError("an image must be at least 1x1")
    return encode_png(np.ascontiguousarray(a).tobytes(), w, h, c)


def to_png(image: Any) -> Tuple[bytes, int, int]:
    """(png bytes, width, height) from PNG bytes, a path to a .png file, a numpy array, a torch
    tensor (via numpy) or a PIL image"""
    if isinstance(image, (bytes, bytearray, memoryview)):
        data = bytes(image)
    elif isinstance(image, str):
        with open(image, "rb") as f:
            data = f.read()
    elif hasattr(image, "save") and hasattr(image, "mode") and hasattr(image, "size"):  # PIL.Image
        buf = io.BytesIO()
        image.save(buf, format="PNG")
        data = buf.getvalue()
    elif hasattr(image, "__array__") or hasattr(image, "detach"):
        if hasattr(image, "detach"):  # torch tensor
            image = image.detach().cpu().numpy()
        data = _from_array(image)
    else:
        raise TypeError(f"log_image takes PNG bytes, a .png path, a numpy array or a PIL image, not {type(image).__name__}")
    w, h = png_size(data)
    return data, w, h
