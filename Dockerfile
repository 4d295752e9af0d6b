# Concord's image: one image for web (gunicorn), worker and beat (celery).
FROM python:3.11-slim

# The code runs from /app: templates/, static/ and var/ are found next to config/.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app

# What WeasyPrint needs to render PDFs; libharfbuzz-subset0 makes font subsetting fast.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies first, so a code change does not reinstall them: the exact versions
# (and hashes) of requirements.lock, the runtime half of what `make setup` installs.
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock

COPY . .
RUN pip install --no-deps . \
    && useradd --create-home --uid 1000 concord \
    && mkdir -p var/static var/media var/mail \
    && chown -R concord:concord var

USER concord
EXPOSE 8000

# The web process; compose gives the worker and beat their own commands.
CMD ["sh", "-c", "python manage.py migrate --noinput && python manage.py collectstatic --noinput && exec gunicorn config.wsgi --bind 0.0.0.0:8000 --workers ${WEB_CONCURRENCY:-3} --access-logfile -"]
