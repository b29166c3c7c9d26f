"""Experts hold several personal links (ExpertLink); sessions carry an access generation; the
study sets how long links live after the last round closes. Existing links keep working."""

import django.db.models.deletion
from django.db import migrations, models


def links_from_experts(apps, schema_editor):
    Expert = apps.get_model("surveys", "Expert")
    ExpertLink = apps.get_model("surveys", "ExpertLink")
    ExpertLink.objects.bulk_create(
        ExpertLink(expert_id=pk, token_hash=digest, issued_at=issued or created)
        for pk, digest, issued, created in Expert.objects.filter(token_hash__isnull=False)
        .values_list("pk", "token_hash", "token_issued_at", "created_at").iterator())


def experts_from_links(apps, schema_editor):
    Expert = apps.get_model("surveys", "Expert")
    ExpertLink = apps.get_model("surveys", "ExpertLink")
    for link in ExpertLink.objects.filter(revoked_at__isnull=True).order_by("issued_at"):
        Expert.objects.filter(pk=link.expert_id).update(token_hash=link.token_hash)


class Migration(migrations.Migration):

    dependencies = [
        ("surveys", "0007_verdicts"),
    ]

    operations = [
        migrations.AddField(
            model_name="expert",
            name="access_generation",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="study",
            name="link_lifetime_days",
            field=models.PositiveSmallIntegerField(
                default=30,
                help_text="Days the experts' personal links keep working after the last round "
                          "closes; while a round is open they always work."),
        ),
        migrations.CreateModel(
            name="ExpertLink",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                           verbose_name="ID")),
                ("token_hash", models.CharField(max_length=64, unique=True)),
                ("issued_at", models.DateTimeField()),
                ("revoked_at", models.DateTimeField(blank=True, null=True)),
                ("expert", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE,
                                             related_name="links", to="surveys.expert")),
            ],
            options={
                "indexes": [models.Index(fields=["expert", "revoked_at"], name="expertlink_live")],
            },
        ),
        migrations.RunPython(links_from_experts, experts_from_links),
        migrations.RemoveField(
            model_name="expert",
            name="token_hash",
        ),
    ]
