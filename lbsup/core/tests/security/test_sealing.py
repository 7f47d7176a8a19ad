"""Secrets at rest (issue #17, the TOTP seeds and recovery codes; the same sealing serves mailbox
passwords and webhook secrets): a copy of the database gives none of them away, keys rotate."""

import io

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from lbsup.core import sealing
from lbsup.core.actions import do_new_recovery_codes, pending_app_device
from lbsup.core.models import AppDevice, RecoveryCodes
from lbsup.core.sealing import Unsealable, new_key, seal, unseal
from lbsup.intake.models import Mailbox
from lbsup.webhooks.models import Endpoint

OLD_KEY, NEW_KEY = new_key(), new_key()


def stored(table, column, pk):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def code_now(device):
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def test_it_keeps_no_secret_in_plaintext_in_the_database(personas):
    mailbox = Mailbox.objects.create(workspace=personas.dental, host="imap.example", username="front",
                                     password="hunter2-imap")
    endpoint = Endpoint.objects.create(workspace=personas.dental, url="https://hooks.example/lbsup")
    app = pending_app_device(personas.lena)
    codes = do_new_recovery_codes(personas.lena)

    assert "hunter2" not in stored("intake_mailbox", "password", mailbox.pk)
    assert endpoint.secret.startswith("whsec_") and endpoint.secret[6:] not in stored("webhooks_endpoint", "secret",
                                                                                       endpoint.pk)
    assert app.key not in stored("core_appdevice", "key", app.pk)
    with connection.cursor() as cursor:
        cursor.execute("SELECT digest FROM core_recoverycode")
        digests = " ".join(row[0] for row in cursor.fetchall())
    assert len(codes) == 10 and not any(code.replace("-", "") in digests for code in codes)

    # What the product reads back is the secret itself.
    assert Mailbox.objects.get(pk=mailbox.pk).password == "hunter2-imap"
    assert Endpoint.objects.get(pk=endpoint.pk).secret == endpoint.secret
    assert AppDevice.objects.get(pk=app.pk).bin_key == app.bin_key


def test_it_takes_a_recovery_code_typed_with_capitals_and_spaces_once(personas):
    codes = do_new_recovery_codes(personas.lena)
    device = RecoveryCodes.objects.get(user=personas.lena)
    typed = codes[3].upper().replace("-", " ")
    assert device.verify_token(typed)
    device.refresh_from_db()
    device.throttle_reset()
    assert not device.verify_token(codes[3])
    assert device.codes.count() == 9


def test_it_opens_secrets_sealed_with_an_older_key_and_reseals_them_with_the_newest(personas):
    with override_settings(LBSUP_SEALING_KEYS=[OLD_KEY]):
        mailbox = Mailbox.objects.create(workspace=personas.dental, host="imap.example", username="u",
                                         password="rotate-me")
        app = pending_app_device(personas.alice)
        seed = app.key
    with override_settings(LBSUP_SEALING_KEYS=[NEW_KEY, OLD_KEY]):
        assert Mailbox.objects.get(pk=mailbox.pk).password == "rotate-me"
        out = io.StringIO()
        call_command("reseal_secrets", stdout=out)
        assert "intake.Mailbox: 1 re-sealed" in out.getvalue()
    with override_settings(LBSUP_SEALING_KEYS=[NEW_KEY]):  # the old key dropped after re-sealing
        assert Mailbox.objects.get(pk=mailbox.pk).password == "rotate-me"
        assert AppDevice.objects.get(pk=app.pk).key == seed
    with override_settings(LBSUP_SEALING_KEYS=[OLD_KEY]), pytest.raises(Unsealable, match="LBSUP_SEALING_KEYS"):
        Mailbox.objects.get(pk=mailbox.pk)


def test_it_derives_a_key_from_secret_key_when_none_is_set_and_says_so_at_deploy(settings):
    settings.LBSUP_SEALING_KEYS = []
    assert unseal(seal("x")) == "x"
    assert [m.id for m in sealing.check_sealing_keys(None)] == ["lbsup.W002"]
    settings.LBSUP_SEALING_KEYS = ["not a key"]
    assert [m.id for m in sealing.check_sealing_keys(None)] == ["lbsup.E002"]
    settings.LBSUP_SEALING_KEYS = [NEW_KEY]
    assert sealing.check_sealing_keys(None) == []


def test_it_moves_django_otp_devices_made_before_sealing_and_leaves_no_plaintext(personas):
    from importlib import import_module

    move_devices = import_module("lbsup.core.migrations.0002_move_django_otp_devices").move_devices
    old_app = TOTPDevice.objects.create(user=personas.lena, name="Authenticator app", confirmed=True)
    old_codes = StaticDevice.objects.create(user=personas.lena, name="Recovery codes", confirmed=True)
    StaticToken.objects.create(device=old_codes, token="abcd2345")

    move_devices(apps, None)

    assert not TOTPDevice.objects.exists() and not StaticToken.objects.exists()
    app = AppDevice.objects.get(user=personas.lena)
    assert app.confirmed and app.key == old_app.key and old_app.key not in stored("core_appdevice", "key", app.pk)
    assert app.verify_token(code_now(app))
    assert RecoveryCodes.objects.get(user=personas.lena).verify_token("abcd2345")
