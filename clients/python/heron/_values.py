"""Turning what people log into what travels: finite floats, NaN/Inf as strings, flat keys."""
from __future__ import annotations

import math
import numbers
from typing import Any, Dict, Iterator, Optional, Tuple, Union

Wire = Union[float, int, str]

MAX_KEY = 512


def encode_float(v: float) -> Wire:
    """JSON has no NaN/Infinity: they travel as the strings the server maps back."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    return v


def decode_wire(v: Any) -> float:
    if v is None or v == "NaN":
        return math.nan
    if v == "Infinity":
        return math.inf
    if v == "-Infinity":
        return -math.inf
    return float(v)


def to_number(v: Any) -> Optional[float]:
    """A loggable scalar as float: int/float/bool, numpy scalars and 0-d/1-element arrays, torch
    tensors with one element (anything with .item()). None when it is not a number."""
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if isinstance(v, numbers.Real):
        try:
            return float(v)
        except (TypeError, ValueError, OverflowError):
            return None
    item = getattr(v, "item", None)
    if callable(item):
        try:
            size = getattr(v, "size", 1)
            if callable(size):  # torch: size() is a method; numel() is the count
                numel = getattr(v, "numel", None)
                size = numel() if callable(numel) else 1
            if size != 1:
                return None
            x = item()
        except Exception:
            return None
        if isinstance(x, (bool, numbers.Real)):
            return float(x)
    return None


def flatten(data: Dict[str, Any], prefix: str = "") -> Iterator[Tuple[str, Any]]:
    """{"train": {"loss": 1}} -> ("train/loss", 1)"""
    for k, v in data.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            yield from flatten(v, key + "/")
        else:
            yield key, v


def json_safe(v: Any, depth: int = 0) -> Any:
    """Config/summary values made JSON-safe: non-finite floats as strings, numpy/torch scalars as
    numbers, tuples/sets as lists, anything else unknown as its str()."""
    if depth > 32:
        return "[too deep]"
    if v is None or isinstance(v, (str, bool)):
        return v
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        return encode_float(v)
    if isinstance(v, dict):
        return {str(k): json_safe(x, depth + 1) for k, x in v.items()}
    if isinstance(v, (list, tuple, set, frozenset)):
        return [json_safe(x, depth + 1) for x in v]
    n = to_number(v)
    if n is not None:
        if float(n).is_integer() and "int" in type(v).__name__.lower():
            return int(n)
        return encode_float(n)
    tolist = getattr(v, "tolist", None)
    if callable(tolist):
        try:
            return json_safe(tolist(), depth + 1)
        except Exception:
            pass
    return str(v)
