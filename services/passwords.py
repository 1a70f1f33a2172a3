"""The password policy: at least 12 characters, not the account's e-mail or name, not a common password, hard to guess.

The deny-list and the guessability estimate come from the ``zxcvbn`` package (a Python port of Dropbox's zxcvbn,
Wheeler 2016, "zxcvbn: Low-Budget Password Strength Estimation", USENIX Security): its bundled frequency lists are
read from the installed package, so nothing reaches the network. The rules follow NIST SP 800-63B section 5.1.1.2
(minimum length, compare against commonly used passwords and context-specific words, no composition rules).
"""

from __future__ import annotations

import re

from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from services.errors import UserFacingError

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256
COMMON_PASSWORDS_COUNT = 10_000
MIN_SCORE = 3  # zxcvbn score 0-4; 3 = "safely unguessable: moderate protection from offline slow-hash scenario"
CONTEXT_WORDS = ("inventory", "command", "center", "planner", "admin", "viewer")


class PasswordPolicyError(UserFacingError, ValueError):
    """A password the policy refuses (the message says why and is safe to show)."""


# The 10,000 most common passwords (lower case), as ranked by zxcvbn's bundled list (a constant of the package).
COMMON_PASSWORDS = frozenset(FREQUENCY_LISTS["passwords"][:COMMON_PASSWORDS_COUNT])


def _name_parts(email: str) -> tuple[str, list[str]]:
    """The e-mail's local part (the account's name) and its words (split on . _ - + and digits)."""
    local = email.partition("@")[0].lower()
    words = [w for w in re.split(r"[._+\-\d]+", local) if len(w) >= 3]
    return local, words


def check_password(password: str, *, email: str | None = None) -> None:
    """Raise :class:`PasswordPolicyError` when ``password`` breaks the policy for the account ``email``.

    Refused: fewer than 12 or more than 256 characters; one of the 10,000 most common passwords (case-insensitive);
    containing the e-mail address or its local part (the name); a zxcvbn score below 3 with the e-mail, its words
    and the app's own words as context (repeats like ``aaaaaaaaaaaa``, sequences, keyboard walks, a common word
    with digits).
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordPolicyError(f"The password must have at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise PasswordPolicyError(f"The password must have at most {MAX_PASSWORD_LENGTH} characters.")
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS:
        raise PasswordPolicyError("This password is one of the 10,000 most common passwords; choose another.")
    context: list[str] = list(CONTEXT_WORDS)
    if email:
        email = email.strip().lower()
        local, words = _name_parts(email)
        squeezed = re.sub(r"[^0-9a-z]", "", lowered)
        if email in lowered or (len(local) >= 3 and local in lowered) or (len(local) >= 3 and squeezed == local):
            raise PasswordPolicyError("The password must not contain your e-mail address or your name.")
        context = [email, local, *words, *context]
    result = zxcvbn(password, user_inputs=context)
    if result["score"] < MIN_SCORE:
        warning = (result.get("feedback") or {}).get("warning") or ""
        reason = f" ({warning.rstrip('.')})" if warning else ""
        raise PasswordPolicyError(
            f"This password is too easy to guess{reason}; use a longer phrase of unrelated words."
        )
