from django.core.management.base import BaseCommand, CommandError

from surveys.errors import StudyFileError
from surveys.services.studies import study_file_read, study_load


class Command(BaseCommand):
    help = "Create or update a study from its YAML file; a file with problems changes nothing."

    def add_arguments(self, parser):
        parser.add_argument("file")

    def handle(self, *args, **options):
        try:
            study = study_load(data=study_file_read(options["file"]))
        except StudyFileError as exc:
            lines = "\n".join(f"  - {p}" for p in exc.problems)
            raise CommandError(f"{exc.message} {options['file']}; nothing was changed:\n{lines}") from None
        self.stdout.write(f"Loaded study {study.slug!r}: {study.themes.count()} themes, "
                          f"{study.items.count()} items.")
