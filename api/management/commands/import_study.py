"""python manage.py import_study FILE [--slug NEW]: restore a study from the complete archive that
`export_study --format backup` writes, or create one from the pseudonymized JSON archive of the
web download (`export_study --format json`), gzipped or not."""

import gzip
import json

from django.core.management.base import BaseCommand, CommandError

from api.services.archive import study_import_archive
from surveys.errors import ServiceError


class Command(BaseCommand):
    help = ("Restore a study from an archive made by export_study --format backup, or create one "
            "from the web's JSON archive (experts under their pseudonyms), all or nothing. Staff "
            "members without an account here get one without a usable password (set one to log in).")

    def add_arguments(self, parser):
        parser.add_argument("archive", help="The archive file (JSON, or gzipped JSON).")
        parser.add_argument("--slug", default=None, help="Import under another slug (a copy).")

    def handle(self, *args, archive: str, slug: str | None, **options):
        try:
            with open(archive, "rb") as handle:
                raw = handle.read()
            data = json.loads(gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw)
        except (OSError, ValueError) as error:
            raise CommandError(f"Cannot read {archive}: {error}") from None
        try:
            study, users = study_import_archive(archive=data, slug=slug)
        except ServiceError as error:
            raise CommandError(error.message) from None
        self.stdout.write(f"Imported study {study.slug!r}.")
        if users:
            self.stdout.write("Accounts created without a password: " + ", ".join(users))
