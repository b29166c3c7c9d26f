"""API tokens get a scope and an expiry; tokens that another token may have minted are revoked.

Tokens made before this change keep working as they did (read and write) for 90 more days.
Until now a token could create tokens, and nothing recorded which ones it made; since tokens can
no longer do so, the tokens that one could have made are revoked: every token created while
another unrevoked token of the same user already existed. A user's first token, and any token
made while the user had no other live token, stays.
"""

from datetime import timedelta

from django.db import migrations, models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

LIFETIME_OF_EXISTING = timedelta(days=90)


def revoke_possibly_minted(apps, schema_editor):
    ApiToken = apps.get_model("api", "ApiToken")
    now = timezone.now()
    ApiToken.objects.filter(expires_at__isnull=True).update(expires_at=now + LIFETIME_OF_EXISTING)
    earlier_live = ApiToken.objects.filter(
        Q(revoked_at__isnull=True) | Q(revoked_at__gt=OuterRef("created_at")),
        user=OuterRef("user"), created_at__lt=OuterRef("created_at"))
    (ApiToken.objects.filter(revoked_at__isnull=True).filter(Exists(earlier_live))
     .update(revoked_at=now))


class Migration(migrations.Migration):

    dependencies = [
        ("api", "0002_responserevision_to_surveys"),
    ]

    operations = [
        # Existing tokens get read-and-write, what they could do so far; new ones default to read.
        migrations.AddField(
            model_name="apitoken", name="scope",
            field=models.CharField(choices=[("read", "Read only"), ("write", "Read and write")],
                                   default="write", max_length=10, verbose_name="scope"),
        ),
        migrations.AlterField(
            model_name="apitoken", name="scope",
            field=models.CharField(choices=[("read", "Read only"), ("write", "Read and write")],
                                   default="read", max_length=10, verbose_name="scope"),
        ),
        migrations.AddField(
            model_name="apitoken", name="expires_at",
            field=models.DateTimeField(null=True, verbose_name="expires at"),
        ),
        migrations.RunPython(revoke_possibly_minted, migrations.RunPython.noop),
        # expires_at becomes required in the next migration: PostgreSQL refuses an ALTER TABLE in
        # the transaction that just updated its rows ("pending trigger events").
    ]
