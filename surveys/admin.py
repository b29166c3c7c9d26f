"""Nothing of a study is registered in the Django admin.

The admin is the operator's (superusers only, config/admin.py) and knows no study roles, locks
or audit: studies, items, the panel, rounds and their figures are managed in the workspace and
the API, which check roles and write the audit log, and audit rows are append-only everywhere.
"""
