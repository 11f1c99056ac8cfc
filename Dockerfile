# Watchfloor service image: slim, non-root; migrates the database, then runs web + scheduler.
# (Not built in the project's CI: no Docker engine runs there. See README.)
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY app ./app
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 watchfloor
COPY --from=build /install /usr/local
WORKDIR /srv/watchfloor
COPY alembic.ini ./
COPY alembic ./alembic
COPY indicators ./indicators
COPY feeds ./feeds
COPY templates ./templates
RUN mkdir -p var && chown -R watchfloor:watchfloor /srv/watchfloor
USER watchfloor
ENV WATCHFLOOR_HOST=0.0.0.0 \
    WATCHFLOOR_PORT=8000 \
    PYTHONUNBUFFERED=1
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8000/healthz'); sys.exit(0)"
CMD ["sh", "-c", "watchfloor db upgrade && watchfloor feeds sync && watchfloor run"]
