"""Which of Cyber Essentials' user access control requirements each rule gives evidence for,
so an auditor reads a finding against the requirement it bears on (None: the rule serves the
charity's own policy only).

The requirements, in the words the pack prints them:
"""

from __future__ import annotations

APPROVAL = "user accounts are approved before they are given (account approval)"
LEAVERS = "accounts of leavers are removed or disabled promptly"
MFA = "MFA on cloud services, social media included"
ADMIN = "admin rights only for those who need them, and managed"
SHARED = "no shared accounts without a recorded exception"

CYBER_ESSENTIALS: dict[str, str] = {
    "ACC-001": APPROVAL, "ACC-002": APPROVAL, "ACC-003": APPROVAL, "ACC-004": APPROVAL,
    "ACC-006": APPROVAL, "ACC-007": APPROVAL, "REV-001": APPROVAL, "REV-002": APPROVAL,
    "ACC-005": MFA, "SEC-001": MFA, "SEC-002": MFA, "SEC-003": MFA, "CRD-003": MFA,
    "GRT-001": LEAVERS, "GRT-002": LEAVERS, "GRT-003": LEAVERS, "CRD-001": LEAVERS,
    "OFB-001": LEAVERS, "OFB-002": LEAVERS, "SEC-004": LEAVERS, "SEC-006": LEAVERS,
    "SEC-005": ADMIN, "SEC-007": ADMIN, "SEC-008": SHARED,
}
