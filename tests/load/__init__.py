"""Load and fault runs: gunicorn on PostgreSQL against the sandbox EHR, driven by wrk."""
