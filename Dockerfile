# monitor: the daemon with its database and watchlists on volumes.
# Mirrors the README's install; no model download happens at run time (the embedding model
# ships inside a pip package), so the image runs air-gapped.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    MONITOR_DATABASE_URL=sqlite:////data/monitor.db \
    MONITOR_WATCHLISTS=/watchlists

RUN useradd --create-home --uid 10001 monitor \
    && mkdir -p /data /watchlists \
    && chown monitor:monitor /data /watchlists

WORKDIR /src
COPY pyproject.toml README.md ./
COPY monitor ./monitor
COPY alembic ./alembic
RUN pip install --no-compile ".[postgres]" && rm -rf /src

COPY --chown=monitor:monitor watchlists /watchlists
USER monitor
WORKDIR /data
VOLUME ["/data", "/watchlists"]

ENTRYPOINT ["monitor"]
CMD ["run"]
