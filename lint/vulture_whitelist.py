"""Names vulture cannot see used (`make lint` passes this file to vulture with the package).

Each is used by something vulture does not read: a library calling it back, getattr, the
import table of the command line, the platform catalogue's data, or the tests.
"""
# ruff: noqa: F821, B018

_.min_secret_length_bits  # pyotp reads it on its TOTP class
_.list_commands  # click calls these on the command group
_.get_command
_.format_commands
_.format_options  # click calls it on the init command (its grouped help)
_.mfa_methods  # the platform catalogue's data (accessgov/data/platforms.json)
_.notes
KeyringBackend  # named by string in the secret backends' registry
VaultBackend
ITEM_KINDS  # the offboarding schema's test holds the schema to it
current_code  # the tests make operators' codes with it
_._people  # transfer.writing.Writer.write calls _<kind> by name
_._accounts
_._delegations
_._grants
# The OpenBao identity API (accessgov.secrets.openbao), exercised by its integration tests
# until the vault mode's commands call it (issue 13).
checked_server_time
write_head
check_not_rolled_back
_.entity_id
_.ttl_seconds
create_operator
enrolment_token
destroy_mfa
disable_operator
enable_operator
sign
all_public_keys
keys_that_can_leave
