from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from surveys.errors import StudyFileError
from surveys.models import Study
from surveys.studyfile import MAX_BYTES, study_yaml_load
from workspace.services.transfer import study_yaml_import

from ._common import add_actor_argument, call, get_actor, get_user


def file_slug(content: bytes) -> str:
    """The slug the study file names, if it can be read (the import reports any problem)."""
    if len(content) > MAX_BYTES:
        return ""
    try:
        data = study_yaml_load(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, StudyFileError):
        return ""
    return str(data.get("slug") or "") if isinstance(data, dict) else ""


class Command(BaseCommand):
    help = ("Create or update a study from its YAML file, as the workspace's import does: a file "
            "with problems changes nothing; a new study's --actor becomes its owner.")

    def add_arguments(self, parser):
        parser.add_argument("file")
        add_actor_argument(parser)

    def handle(self, *args, **options):
        try:
            with Path(options["file"]).open("rb") as file:
                content = file.read(MAX_BYTES + 1)  # more is refused as too large unread
        except OSError as exc:
            raise CommandError(f"Cannot read {options['file']}: {exc.strerror}") from None
        slug = file_slug(content)
        study = Study.objects.filter(slug=slug).first() if slug else None
        actor = get_actor(study, options["actor"]) if study else get_user(options["actor"])
        try:
            study = call(study_yaml_import, content=content, actor=actor, study=study)
        except CommandError as exc:
            raise CommandError(f"{options['file']}: {exc}") from None
        self.stdout.write(f"Loaded study {study.slug!r}: {study.themes.count()} themes, "
                          f"{study.items.count()} items.")
