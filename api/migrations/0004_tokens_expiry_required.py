"""Every API token has an expiry (0003 gave the existing ones theirs)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("api", "0003_tokens_scope_expiry"),
    ]

    operations = [
        migrations.AlterField(
            model_name="apitoken", name="expires_at",
            field=models.DateTimeField(verbose_name="expires at"),
        ),
    ]
