# Production image: slim Python, non-root user, requirements in their own layer, migrations then gunicorn.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 APP_ENV=prod DATA_DIR=/app/data
WORKDIR /app

# CJK glyphs for PDF briefings (SKU names like "Café crème 東京")
RUN apt-get update && apt-get install -y --no-install-recommends fonts-wqy-microhei && rm -rf /var/lib/apt/lists/*

COPY requirements.txt .
RUN pip install -r requirements.txt

RUN useradd --create-home --uid 10001 app
COPY --chown=app:app . .
RUN mkdir -p /app/data && chown app:app /app/data
USER app

EXPOSE 8050
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8050/healthz').status == 200 else 1)"
# Migrations once, then several workers (the web tier keeps no state of its own). Keep-alive longer than a load
# balancer's idle timeout (60 s is common): with gunicorn's 2 s default a client reusing a connection the server is
# closing gets "connection reset" (seen in bench/load.py: 13 of 2,628 requests).
CMD ["sh", "-c", "python cli.py migrate && exec gunicorn --workers ${WEB_WORKERS:-4} --threads ${WEB_THREADS:-4} --keep-alive ${WEB_KEEPALIVE:-75} --bind 0.0.0.0:8050 --timeout 120 'app:server'"]
