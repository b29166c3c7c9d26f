from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from surveys.exports import FORMATS, export_bytes

from ._common import get_study


class Command(BaseCommand):
    help = ("Export a study's submitted answers under pseudonyms: long CSV (the analysis format), "
            "the open texts (texts-csv, texts-parquet), XLSX, Parquet, SPSS .sav or the JSON "
            "archive (which import_study reads back).")

    def add_arguments(self, parser):
        parser.add_argument("--study", required=True)
        # backup: the complete archive (names and emails included) that import_study restores.
        parser.add_argument("--format", choices=[*FORMATS, "backup"], default="csv")
        parser.add_argument("--language", choices=["en", "ru"], default=None,
                            help="the .sav file's labels' language (default: the study's)")
        parser.add_argument("-o", "--output", required=True, help="file to write")

    def handle(self, *args, **options):
        study = get_study(options["study"])
        if options["format"] == "backup":
            from api.services.archive import archive_bytes

            data = archive_bytes(study)
        else:
            data = export_bytes(study, options["format"], language=options["language"])
        try:
            Path(options["output"]).write_bytes(data)
        except OSError as exc:
            raise CommandError(f"Cannot write {options['output']}: {exc.strerror}") from None
        self.stdout.write(f"Wrote {len(data)} bytes to {options['output']}.")
