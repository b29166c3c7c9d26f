"""ResponseRevision moves from the api app to surveys, with its rows: the table is renamed."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("surveys", "0004_response_started_at"),
        ("api", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ResponseRevision",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True,
                                                   serialize=False, verbose_name="ID")),
                        ("number", models.PositiveIntegerField()),
                        ("version", models.PositiveIntegerField(
                            help_text="The response's version at this revision.")),
                        ("answers", models.JSONField(default=list)),
                        ("rationales", models.JSONField(default=list)),
                        ("created_at", models.DateTimeField()),
                        ("response", models.ForeignKey(
                            on_delete=django.db.models.deletion.PROTECT,
                            related_name="revisions", to="surveys.response")),
                    ],
                    options={
                        "ordering": ["response", "number"],
                        "db_table": "api_responserevision",
                        "constraints": [models.UniqueConstraint(
                            fields=("response", "number"), name="uniq_response_revision")],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.AlterModelTable(name="responserevision", table=None),
    ]
