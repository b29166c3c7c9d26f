import secrets

import django.core.validators
import django.db.models.deletion
from django.db import migrations, models


def distinct_keys(apps, schema_editor):
    """AddField gives every existing study the same default: each gets a key of its own."""
    Study = apps.get_model("surveys", "Study")
    for study in Study.objects.only("pk"):
        Study.objects.filter(pk=study.pk).update(feedback_key=secrets.token_hex())


class Migration(migrations.Migration):

    dependencies = [
        ('surveys', '0008_links_expert_links'),
    ]

    operations = [
        migrations.AddField(
            model_name='study',
            name='min_cell',
            field=models.PositiveSmallIntegerField(default=3, help_text='Experts see no figure or argument on an item until at least this many experts have answered it; Real-Time figures change after this many new submissions.', validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(50)]),
        ),
        migrations.AddField(
            model_name='study',
            name='feedback_key',
            field=models.CharField(default=secrets.token_hex, editable=False, max_length=64),
        ),
        migrations.RunPython(distinct_keys, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='study',
            name='mode',
            field=models.CharField(choices=[('classic', 'Classic (rounds)'), ('realtime', 'Real-Time (roundless)')], default='classic', help_text='Real-Time: one live round that experts revisit any time, with statistics refreshed in batches of new submissions and dated snapshots taken by the organizer.', max_length=10),
        ),
        migrations.CreateModel(
            name='LiveArguments',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('arguments', models.JSONField(default=dict)),
                ('run', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='live_arguments', to='surveys.aggregationrun')),
            ],
        ),
    ]
