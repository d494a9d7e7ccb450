"""The encoders made once write exactly what json.dumps writes: seals and the audit chain
hash this text, so one character of difference would break every seal made before."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accessgov.common.compact_json import compact_encoder

VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=20)


@pytest.mark.parametrize("sort_keys", [True, False])
@pytest.mark.parametrize("ensure_ascii", [True, False])
@given(value=VALUES)
def test_the_text_is_json_dumps_own(value: object, sort_keys: bool, ensure_ascii: bool) -> None:
    encode = compact_encoder(sort_keys=sort_keys, ensure_ascii=ensure_ascii)
    assert encode(value) == json.dumps(value, separators=(",", ":"), sort_keys=sort_keys,
                                       ensure_ascii=ensure_ascii)


def test_what_json_cannot_hold_is_the_same_type_error() -> None:
    with pytest.raises(TypeError, match="not JSON serializable"):
        compact_encoder(sort_keys=True, ensure_ascii=False)({"when": object()})
