#!/usr/bin/env bash
# Start the web app (gunicorn), a Celery worker with embedded beat, a webhook delivery worker, and stop them all on Ctrl-C.
set -euo pipefail
PY=${PY:-.venv/bin/python}
PORT=${PORT:-8000}
export VIGIL_BASE_URL=${VIGIL_BASE_URL:-http://127.0.0.1:${PORT}}  # absolute links in e-mails and webhooks
CELERY=$(dirname "$PY")/celery

pids=()
cleanup() { trap - INT TERM EXIT; kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup INT TERM EXIT

# One worker with beat inside: right for the embedded broker. In production run beat once and workers anywhere.
"$CELERY" -A vigil worker --beat --loglevel=INFO --concurrency=2 -Q celery &
pids+=($!)
# Webhook deliveries have their own queue and worker: a slow receiver never holds up an export or a monitor cycle.
"$CELERY" -A vigil worker --loglevel=INFO --concurrency=2 -Q webhooks -n webhooks@%h &
pids+=($!)
# The web app is served as in production: gunicorn (DEBUG off, whitenoise's collected static files), not Django's
# development server. Two sync workers suit this two-process demo; production sizes them to its cores.
"$(dirname "$PY")/gunicorn" vigil.wsgi --bind "127.0.0.1:${PORT}" --workers 2 --timeout 120 \
  --access-logfile - --log-level warning &
pids+=($!)

echo
echo "Vigil is running at http://127.0.0.1:${PORT}/  (API docs at /api/docs/, health at /health/)"
echo "Press Ctrl-C to stop the web app, the workers and the scheduler."
wait -n "${pids[@]}"
