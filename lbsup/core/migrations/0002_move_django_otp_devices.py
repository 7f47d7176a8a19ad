"""Devices made before sealing move into lbsup's own tables and leave no plaintext behind."""

from django.db import migrations

from lbsup.core.models import code_digest


def move_devices(apps, schema_editor):
    TOTPDevice = apps.get_model("otp_totp", "TOTPDevice")
    StaticDevice = apps.get_model("otp_static", "StaticDevice")
    AppDevice = apps.get_model("core", "AppDevice")
    RecoveryCodes = apps.get_model("core", "RecoveryCodes")
    RecoveryCode = apps.get_model("core", "RecoveryCode")
    for old in TOTPDevice.objects.all():
        AppDevice.objects.create(  # the historical model keeps SealedTextField: the key is sealed on save
            user_id=old.user_id, name=old.name, confirmed=old.confirmed, key=old.key, step=old.step, t0=old.t0,
            digits=old.digits, tolerance=old.tolerance, drift=old.drift, last_t=old.last_t,
            created_at=old.created_at, last_used_at=old.last_used_at)
    for old in StaticDevice.objects.all():
        new = RecoveryCodes.objects.create(user_id=old.user_id, name=old.name, confirmed=old.confirmed)
        RecoveryCode.objects.bulk_create(RecoveryCode(device_id=new.pk, digest=code_digest(token.token))
                                         for token in old.token_set.all())
    TOTPDevice.objects.all().delete()
    StaticDevice.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
        ("otp_totp", "0003_add_timestamps"),
        ("otp_static", "0003_add_timestamps"),
    ]

    operations = [migrations.RunPython(move_devices, migrations.RunPython.noop)]
