from django.db import migrations, models

import lbsup.core.sealing


class Migration(migrations.Migration):
    dependencies = [("intake", "0002_initial")]

    operations = [
        migrations.AlterField("mailbox", "password", models.TextField()),
        lbsup.core.sealing.seal_existing("intake", "Mailbox", "password"),
        migrations.AlterField("mailbox", "password", lbsup.core.sealing.SealedTextField()),
    ]
