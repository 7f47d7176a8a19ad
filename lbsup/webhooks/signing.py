"""Signatures a consumer checks: HMAC-SHA256 over "<timestamp>.<body>" with the endpoint's secret.

Headers sent with every delivery:
    X-Lbsup-Event: contact.merged
    X-Lbsup-Delivery / Idempotency-Key: <stable id, the same on every retry and replay>
    X-Lbsup-Timestamp: <unix seconds of this attempt>
    X-Lbsup-Signature: v1=<hex digest>
A consumer recomputes the digest, compares in constant time, and refuses timestamps older
than a few minutes (replay protection); the idempotency key lets it drop duplicates.
"""

import hashlib
import hmac

TOLERANCE_SECONDS = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"v1={digest}"


def verify(secret: str, headers, body: bytes, now: float, tolerance: int = TOLERANCE_SECONDS) -> bool:
    """What a consumer does with a delivery; lbsup ships it so tests and integrators share one rule."""
    try:
        timestamp = int(headers.get("X-Lbsup-Timestamp", ""))
    except ValueError:
        return False
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), headers.get("X-Lbsup-Signature", ""))
