# Undercurrent in a container: a slim Python, the bot installed from this checkout, run as an
# unprivileged user, its database on a volume. The README's "Running it 24/7" shows how to use it.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DATABASE_PATH=/data/undercurrent.sqlite3

# A user with no login and no home of its own; /data (the database) and /backups (BACKUP_DIR,
# if set) are the only places it writes.
RUN groupadd --system --gid 10001 undercurrent \
    && useradd --system --uid 10001 --gid undercurrent --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin undercurrent \
    && mkdir /data /backups \
    && chown undercurrent:undercurrent /data /backups

WORKDIR /app
COPY pyproject.toml README.md LICENSE ./
COPY bot ./bot
COPY cogs ./cogs
COPY sandbox ./sandbox
RUN pip install --no-cache-dir . && rm -rf /app/bot /app/cogs /app/sandbox

USER 10001:10001
VOLUME ["/data", "/backups"]

# Healthy only while the bot is connected to Discord: `check --live` reads the heartbeat the
# bot writes beside its database (every 20 s, and at once when a gateway connection drops).
HEALTHCHECK --interval=60s --timeout=20s --start-period=120s --retries=3 \
    CMD ["python", "-m", "bot", "check", "--live"]

# SIGTERM (docker stop) makes the bot finish what it is doing and exit 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["python", "-m", "bot"]
CMD ["run"]
