"""Which moves `store move` accepts, before any store is touched (the moves themselves run on
real stores: tests/integration/test_store_move.py)."""

from __future__ import annotations

import pytest

from accessgov.errors import InputError
from accessgov.governance.store_move import check_move
from accessgov.secrets.config import BackendConfig


def vault(url: str = "https://vault.example.org", prefix: str = "accessgov") -> BackendConfig:
    return BackendConfig("vault", "interact", vault_url=url, vault_prefix=prefix)


def keyring() -> BackendConfig:
    return BackendConfig("keyring", "interact",
                         keyring_class="keyring.backends.SecretService.Keyring")


def test_a_register_whose_operators_sign_in_openbao_cannot_move_out() -> None:
    signed = BackendConfig("openbao", "interact", vault_url="https://bao.example.org")
    with pytest.raises(InputError, match="signatures"):
        check_move(signed, keyring())


def test_a_move_to_where_the_secrets_already_are_is_refused() -> None:
    with pytest.raises(InputError, match="already keeps its secrets there"):
        check_move(vault(), vault())
    with pytest.raises(InputError, match="already keeps its secrets there"):
        check_move(keyring(), keyring())


def test_moves_between_the_keyring_and_vault_or_to_another_vault_area_are_accepted() -> None:
    check_move(keyring(), vault())
    check_move(vault(), keyring())
    check_move(vault(), vault(prefix="accessgov2"))
    check_move(vault(), vault(url="https://new-vault.example.org"))
