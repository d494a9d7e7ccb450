"""The names the audit log gives to actors that are not people of the register."""

SETUP = "setup"  # anyone, while the register is being set up
SYSTEM = "accessgov"  # accessgov itself (a grant reaching its end date)
UNKNOWN = "unknown"  # whoever held a forged session ticket
