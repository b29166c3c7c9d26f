"""ResponseRevision now belongs to surveys (surveys 0005 took over its table)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("api", "0001_initial"),
        ("surveys", "0005_responserevision"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="ResponseRevision")],
            database_operations=[],
        ),
    ]
