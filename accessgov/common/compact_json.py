"""Compact JSON text from an encoder made once: `json.dumps` with options builds a new encoder
on every call, which costs more than the encoding itself when a row seal or an audit event is
written 100,000 times (an import, `audit verify`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any


def compact_encoder(*, sort_keys: bool, ensure_ascii: bool) -> Callable[[Any], str]:
    """The function `json.dumps(value, separators=(",", ":"), sort_keys=..., ensure_ascii=...)`
    is, with the same text for every value (and the same TypeError for what JSON cannot hold).
    """
    options = json.JSONEncoder(sort_keys=sort_keys, ensure_ascii=ensure_ascii,
                               separators=(",", ":"))
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # a Python without the C accelerator: the same text, more slowly
        return options.encode
    strings = json.encoder.encode_basestring_ascii if ensure_ascii else \
        json.encoder.encode_basestring
    encoder = make(None, options.default, strings, None, ":", ",", sort_keys, False, True)
    return lambda value: "".join(encoder(value, 0))
