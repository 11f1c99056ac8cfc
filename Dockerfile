# Watchfloor service image: slim, non-root; migrates the database, then runs web + scheduler.
# (Not built in the project's CI: no Docker engine runs there. See README.)
# The source tree is installed in place (editable) because templates/, indicators/ and feeds/ are found
# beside the `app` package.
FROM python:3.11-slim
RUN useradd --create-home --uid 10001 watchfloor
WORKDIR /srv/watchfloor
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY alembic ./alembic
COPY indicators ./indicators
COPY feeds ./feeds
COPY templates ./templates
RUN pip install --no-cache-dir -e . \
    && mkdir -p var && chown -R watchfloor:watchfloor /srv/watchfloor/var
USER watchfloor
ENV WATCHFLOOR_HOST=0.0.0.0 \
    WATCHFLOOR_PORT=8000 \
    PYTHONUNBUFFERED=1
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["sh", "-c", "watchfloor db upgrade && watchfloor feeds sync && watchfloor run"]
