"""Errors that services raise; views turn them into clear 4xx answers."""


class ServiceError(Exception):
    """A request that cannot be carried out as asked; the message is safe to show."""

    status = 400

    def __init__(self, message: str, *, field_errors: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.field_errors = field_errors or {}


class RoundNotOpen(ServiceError):
    status = 409


class StaleVersion(ServiceError):
    status = 409


class StudyFileError(ServiceError):
    """A study file with problems; `problems` lists each with its location."""

    def __init__(self, problems: list[str]):
        from surveys.studyfile import problems_bounded

        super().__init__(f"{len(problems)} problem(s) in the study file")
        self.problems = problems_bounded(problems)  # an error list is bounded, whatever its source
