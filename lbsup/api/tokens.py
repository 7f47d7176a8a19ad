"""Token strings: `lbs_<prefix>_<secret>`. The prefix finds the row; only the SHA-256
of the whole string is stored and it is compared in constant time."""

import hashlib
import hmac
import secrets
from dataclasses import dataclass

SCHEME = "lbs"


@dataclass(frozen=True)
class TokenParts:
    prefix: str
    plaintext: str


def new_token():
    prefix = secrets.token_hex(6)
    # 32 bytes of randomness: guessing is hopeless, so one round of SHA-256 is enough.
    return TokenParts(prefix=prefix, plaintext=f"{SCHEME}_{prefix}_{secrets.token_urlsafe(32)}")


def digest(plaintext):
    return hashlib.sha256(plaintext.encode("utf-8", "surrogatepass")).hexdigest()


def prefix_of(plaintext):
    """The public prefix of a presented token, or None when it is not one of ours."""
    scheme, _, rest = plaintext.partition("_")
    prefix, _, secret = rest.partition("_")
    if scheme != SCHEME or len(prefix) != 12 or not secret:
        return None
    return prefix


def matches(plaintext, stored_sha256):
    return hmac.compare_digest(digest(plaintext), stored_sha256)
