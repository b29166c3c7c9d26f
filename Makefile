# Agora Delphi: `make demo` runs the platform on the embedded default, `make test` tests it.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export PORT

.PHONY: demo test install install-dev migrate serve serve-demo lint typecheck messages clean

$(VENV)/.base: requirements/base.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is needed (set PYTHON=/path/to/python3.11)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements/base.txt
	touch $@

$(VENV)/.dev: $(VENV)/.base requirements/dev.txt
	$(PY) -m pip install --quiet -r requirements/base.txt -r requirements/dev.txt
	touch $@

install: $(VENV)/.base
install-dev: $(VENV)/.dev

migrate: install
	$(PY) manage.py migrate --no-input -v 0
	$(PY) manage.py collectstatic --no-input -v 0

demo: migrate
	$(PY) manage.py demo
	@echo "Serving on http://127.0.0.1:$(PORT) (Ctrl-C stops)"
	@# Celery runs in-process on the embedded default: a round's close (its aggregation and the
	@# report's rendering) and a PDF are built inside the request that asks, so allow them time.
	$(VENV)/bin/gunicorn config.wsgi --bind 127.0.0.1:$(PORT) --workers 2 --timeout 180

# The production-like stack on 127.0.0.1 over plain HTTP: PostgreSQL and Redis (or RabbitMQ) come
# from DATABASE_URL and CELERY_BROKER_URL; migrations, collectstatic, then gunicorn, worker, beat.
SERVE_PROCESSES ?= web worker beat
serve: install
	@test -n "$$DATABASE_URL" -a -n "$$CELERY_BROKER_URL" || { echo "make serve needs DATABASE_URL \
	(postgres://...) and CELERY_BROKER_URL (redis://... or amqp://...); see platform/README.md"; exit 1; }
	export DJANGO_SETTINGS_MODULE=config.settings.production DJANGO_HTTPS=$${DJANGO_HTTPS:-false} \
	  DJANGO_STATIC_COMPRESS=$${DJANGO_STATIC_COMPRESS:-false} \
	  DJANGO_ALLOWED_HOSTS=$${DJANGO_ALLOWED_HOSTS:-127.0.0.1,localhost} \
	  DJANGO_SECRET_KEY=$${DJANGO_SECRET_KEY:-$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')} \
	  AGORA_PSEUDONYM_KEY=$${AGORA_PSEUDONYM_KEY:-$$(mkdir -p var && { test -s var/pseudonym.key || \
	    $(PY) -c 'import secrets; print(secrets.token_hex(32))' > var/pseudonym.key; } && cat var/pseudonym.key)} \
	  PATH="$(CURDIR)/$(VENV)/bin:$$PATH" && \
	$(PY) manage.py migrate --no-input -v 0 && $(PY) manage.py collectstatic --no-input -v 0 && \
	echo "Serving on http://127.0.0.1:$(PORT) ($(SERVE_PROCESSES); Ctrl-C stops them)" && \
	exec $(VENV)/bin/honcho start -f platform/Procfile -d . -p $(PORT) $(SERVE_PROCESSES)

test: install-dev
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install-dev
	$(VENV)/bin/ruff check .

# mypy with django-stubs over the services and selectors (the list is in pyproject.toml).
typecheck: install-dev
	$(VENV)/bin/mypy

messages: install
	for app in surveys workspace api throttle; do \
	  (cd $$app && ../$(PY) ../manage.py makemessages -l ru --no-obsolete && ../$(PY) ../manage.py compilemessages) || exit 1; \
	done

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-wal db.sqlite3-shm staticfiles
