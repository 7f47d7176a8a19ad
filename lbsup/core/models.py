"""Second factors whose secrets a copy of the database does not give away.

django-otp's own TOTPDevice keeps the authenticator seed as plain hex and StaticToken keeps
recovery codes as they are typed.  Here the seed is sealed (lbsup/core/sealing.py) and only a
SHA-256 digest of each recovery code is kept: the codes carry 80 random bits, far beyond guessing
from the digest, and they are throttled like any device when typed.
"""

import hashlib
import secrets

from django.db import models
from django_otp.models import Device, ThrottlingMixin, TimestampMixin
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice, default_key

from lbsup.core.sealing import SealedTextField

CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread from paper


class AppDevice(TimestampMixin, ThrottlingMixin, Device):
    """An authenticator app (TOTP, RFC 6238), verified exactly as django-otp's TOTPDevice."""

    key = SealedTextField(default=default_key, help_text="the hex seed, sealed")
    step = models.PositiveSmallIntegerField(default=30)
    t0 = models.BigIntegerField(default=0)
    digits = models.PositiveSmallIntegerField(default=6)
    tolerance = models.PositiveSmallIntegerField(default=1)
    drift = models.SmallIntegerField(default=0)
    last_t = models.BigIntegerField(default=-1, help_text="the time step of the last code accepted; never again")

    bin_key = TOTPDevice.bin_key
    verify_token = TOTPDevice.verify_token
    get_throttle_factor = TOTPDevice.get_throttle_factor
    config_url = TOTPDevice.config_url
    _read_str_from_settings = TOTPDevice._read_str_from_settings

    class Meta(Device.Meta):
        verbose_name = "authenticator app"


class RecoveryCodes(ThrottlingMixin, Device):
    """One person's set of one-time recovery codes."""

    get_throttle_factor = StaticDevice.get_throttle_factor

    class Meta(Device.Meta):
        verbose_name = "recovery codes"

    def replace_codes(self, count: int) -> list[str]:
        """New codes, shown once; the old ones stop working."""
        codes = [new_recovery_code() for _ in range(count)]
        self.codes.all().delete()
        RecoveryCode.objects.bulk_create(RecoveryCode(device=self, digest=code_digest(code)) for code in codes)
        return codes

    def verify_token(self, token):
        allowed, _ = self.verify_is_allowed()
        if not allowed:
            return False
        used, _ = self.codes.filter(digest=code_digest(token)).delete()
        if used:
            self.throttle_reset()
            return True
        self.throttle_increment()
        return False


class RecoveryCode(models.Model):
    device = models.ForeignKey(RecoveryCodes, on_delete=models.CASCADE, related_name="codes")
    digest = models.CharField(max_length=64, db_index=True)


def new_recovery_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(16))  # 16 × log2(31) ≈ 79 bits
    return "-".join(raw[i:i + 4] for i in range(0, 16, 4))


def code_digest(code) -> str:
    """Typed with or without dashes, spaces or capitals, a code has one digest."""
    normalized = "".join(ch for ch in str(code or "").lower() if ch.isalnum())
    return hashlib.sha256(normalized.encode()).hexdigest()
