"""Settings for the floors of bench/load.py --floors (bench/floor_urls.py): production's, with
the floor views in front of the platform's URLs. Not deployed: bench/load.py runs gunicorn with
DJANGO_SETTINGS_MODULE=floor_settings and bench/ on PYTHONPATH."""

from config.settings.production import *  # noqa: F403 - production's settings, and:

ROOT_URLCONF = "floor_urls"
