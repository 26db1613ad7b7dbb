# Podpath in a container: `docker compose up` (see compose.yaml) or
#   docker build -t podpath . && docker run -p 8000:8000 -v podpath-data:/data podpath
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# The dependencies first, from pyproject.toml alone, so code changes reuse this layer.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# Then the app itself (templates/ and static/ sit beside the package, so install it in place).
COPY . .
RUN pip install --no-deps -e . \
    && useradd --system --uid 10001 --user-group --create-home --home-dir /home/podpath podpath \
    && mkdir -p /data \
    && chown podpath:podpath /data

USER podpath
VOLUME ["/data"]
EXPOSE 8000

CMD ["python", "-m", "app", "--host", "0.0.0.0", "--port", "8000", "--data-dir", "/data"]
