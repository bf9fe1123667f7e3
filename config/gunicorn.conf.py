"""gunicorn settings: HTTPS on the app's origin, two workers, logs without query strings.

The query string can hold a launch handle or an authorization code, so the access log records
the path only (with the request id the app's own lines carry), and gunicorn's own lines (its
warning about a malformed request quotes the whole request line) go through the app's
redacting filter. Certificate paths come from SMARTAPP_TLS_CERT / SMARTAPP_TLS_KEY when set.
"""

import os

from smartapp.web.log_redaction import redact_gunicorn_logs

bind = os.environ.get("SMARTAPP_BIND", "localhost:8443")
workers = int(os.environ.get("SMARTAPP_WORKERS", "2"))
threads = int(os.environ.get("SMARTAPP_THREADS", "4"))
certfile = os.environ.get("SMARTAPP_TLS_CERT") or None
keyfile = os.environ.get("SMARTAPP_TLS_KEY") or None
timeout = 60
# The callback's request line carries the authorization code, which the app accepts up to 8 KB
# (launch/authorize.py); gunicorn's default line limit (4094 bytes) would refuse it, and its
# largest finite limit (8190) leaves no room for the state and percent-encoding. 0: no limit on
# the line; the app refuses a longer code itself, and header fields keep gunicorn's limits.
limit_request_line = 0
accesslog = "-"
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms request_id=%({x-request-id}o)s'

# Load the app once in the master so its signing keys are created once, then give each worker
# its own database connections.
preload_app = True


def on_starting(server):
    redact_gunicorn_logs()  # before the first worker: they inherit the filtered loggers


def post_fork(server, worker):
    services = server.app.wsgi().extensions["smartapp"]
    services.database.dispose()
    services.http.close()  # HTTP sessions are made per worker, at its first request to an EHR


def worker_exit(server, worker):
    # Close the worker's HTTP sessions, thread pool and database connections.
    server.app.wsgi().extensions["smartapp"].close()
