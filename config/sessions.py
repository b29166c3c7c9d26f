"""Sessions kept in the database and in Redis, that go on from the database alone while Redis
cannot be reached (Django's cached_db would answer 500 on every request then).

SESSION_ENGINE is this module when Redis is the cache (config/settings/base.py). A session is
read from Redis, else from the database; written to both. While Redis is down, reads and writes
use the database only and each failure is logged. A session deleted then (a staff logout, a new
link opened) is gone from the database at once; its copy in Redis, if Redis kept its data, lives
on until its expiry unless the same key is written again.
"""

import logging

from django.contrib.sessions.backends import cached_db, db

log = logging.getLogger(__name__)


class SessionStore(cached_db.SessionStore):
    def load(self):
        """cached_db's load, with each use of the cache allowed to fail."""
        try:
            data = self._cache.get(self.cache_key)
        except Exception:  # noqa: BLE001 - Redis unreachable: the database has the session
            log.warning("session cache unavailable; reading the session from the database")
            data = None
        if data is not None:
            return data
        stored = self._get_session_from_db()
        if not stored:
            return {}
        data = self.decode(stored.session_data)
        try:
            self._cache.set(self.cache_key, data, self.get_expiry_age(expiry=stored.expire_date))
        except Exception:  # noqa: BLE001
            log.warning("session cache unavailable; the session is read from the database")
        return data

    def exists(self, session_key):
        try:
            return super().exists(session_key)
        except Exception:  # noqa: BLE001
            log.warning("session cache unavailable; checking the session key in the database")
            return db.SessionStore.exists(self, session_key)

    def delete(self, session_key=None):
        try:
            super().delete(session_key)
        except Exception:  # noqa: BLE001 - deleted from the database before the cache failed
            log.warning("session cache unavailable; the session was deleted from the database")
