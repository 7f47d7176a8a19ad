from django.db import migrations, models

import lbsup.core.sealing
import lbsup.webhooks.models


class Migration(migrations.Migration):
    dependencies = [("webhooks", "0002_attempt_drop_response_body")]

    operations = [
        migrations.AlterField("endpoint", "secret", models.TextField(default=lbsup.webhooks.models.new_secret)),
        lbsup.core.sealing.seal_existing("webhooks", "Endpoint", "secret"),
        migrations.AlterField("endpoint", "secret",
                              lbsup.core.sealing.SealedTextField(default=lbsup.webhooks.models.new_secret)),
    ]
