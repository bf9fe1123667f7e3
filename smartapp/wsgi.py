"""The WSGI entry point for gunicorn: `gunicorn -c config/gunicorn.conf.py smartapp.wsgi:app`."""

from smartapp.app import create_app

app = create_app()
