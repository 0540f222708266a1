# newsbot as a container: `docker compose up -d` (see docker-compose.yml and the README's
# operations guide).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

# A user of its own: the bot needs to write nothing but its database.
RUN useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin newsbot

WORKDIR /app
# The dependencies come from the project's own pinned list in pyproject.toml.
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install . \
    && mkdir -p /app/content /app/data \
    && chown newsbot:newsbot /app/data

USER newsbot

# Where the compose file mounts the posts (read-only) and the database volume.
ENV NEWSBOT_CONTENT_DIR=/app/content \
    NEWSBOT_DATABASE=/app/data/newsbot.sqlite3
VOLUME ["/app/data"]
# 8080: the webhook (webhook mode only); 9090: /metrics and /healthz.
EXPOSE 8080 9090

# slim has no curl; Python's urllib fails (exit 1) on anything but a 2xx answer.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; u.urlopen('http://127.0.0.1:%s/healthz' % (os.environ.get('NEWSBOT_METRICS_PORT') or '9090'), timeout=4)"]

CMD ["newsbot", "run"]
