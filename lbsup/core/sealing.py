"""Secrets lbsup must read back (mailbox passwords, webhook signing secrets, authenticator seeds),
sealed with Fernet under keys that live outside the database.

LBSUP_SEALING_KEYS lists Fernet keys, newest first: everything is sealed with the first and
unsealed with any, so a new key goes in front, `lbsup reseal_secrets` re-seals every row with it,
and the old key can then be dropped.  Without the setting, one key is derived from SECRET_KEY
(kept in var/secret_key, not in the database): enough for one machine, flagged by
`check --deploy` because changing SECRET_KEY would then make every sealed secret unreadable.
"""

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core import checks
from django.db import migrations, models


class Unsealable(Exception):
    """A sealed value that none of the configured keys opens."""


def new_key() -> str:
    return Fernet.generate_key().decode()


def seal(text: str) -> str:
    return _box(_keys()).encrypt(text.encode()).decode()


def unseal(token: str) -> str:
    try:
        return _box(_keys()).decrypt(token.encode()).decode()
    except InvalidToken:
        raise Unsealable("A stored secret cannot be opened with LBSUP_SEALING_KEYS; "
                         "add the key it was sealed with to the list.") from None


def reseal(token: str) -> str:
    """The same secret, sealed with the newest key."""
    return _box(_keys()).rotate(token.encode()).decode()


def _keys() -> tuple[str, ...]:
    configured = tuple(getattr(settings, "LBSUP_SEALING_KEYS", ()))
    return configured or (_derived_key(settings.SECRET_KEY),)


def _derived_key(secret_key: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(b"lbsup sealing key\0" + secret_key.encode()).digest()).decode()


@lru_cache(maxsize=4)
def _box(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


class SealedTextField(models.TextField):
    """Holds the secret in Python and only its Fernet token in the database.  A sealed value
    cannot be searched, so the field is never indexed or compared in queries."""

    def from_db_value(self, value, expression, connection):
        return None if value is None else unseal(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return None if value is None else seal(value)


@checks.register(checks.Tags.security, deploy=True)
def check_sealing_keys(app_configs, **kwargs):
    if getattr(settings, "LBSUP_SEALING_KEYS", None):
        try:
            _box(_keys())
        except ValueError:
            return [checks.Error("LBSUP_SEALING_KEYS holds a value that is not a Fernet key.",
                                 hint="Make one with: lbsup reseal_secrets --new-key", id="lbsup.E002")]
        return []
    return [checks.Warning(
        "Stored secrets are sealed with a key derived from SECRET_KEY; changing SECRET_KEY would make "
        "them unreadable.",
        hint="Set LBSUP_SEALING_KEYS (make a key with: lbsup reseal_secrets --new-key), then run "
             "lbsup reseal_secrets.", id="lbsup.W002")]


def seal_existing(app_label: str, model_name: str, field_name: str):
    """A migration step that seals the plaintext already in a column.  It runs while the column is
    still a plain TextField in the migration state, just before it becomes a SealedTextField."""

    def forwards(apps, schema_editor):
        model = apps.get_model(app_label, model_name)
        for pk, value in model._base_manager.values_list("pk", field_name).iterator():
            model._base_manager.filter(pk=pk).update(**{field_name: seal(value)})

    def backwards(apps, schema_editor):
        model = apps.get_model(app_label, model_name)
        for pk, value in model._base_manager.values_list("pk", field_name).iterator():
            model._base_manager.filter(pk=pk).update(**{field_name: unseal(value)})

    return migrations.RunPython(forwards, backwards)
