"""The WSGI entry point for gunicorn: `gunicorn -c config/gunicorn.conf.py smartapp.wsgi:app`.

A setting that stops start-up ends the process with one line naming it, not a traceback.
"""

import sys

from launch import ConfigurationError
from smartapp.app import create_app
from smartapp.settings import SettingsError

try:
    app = create_app()
except (SettingsError, ConfigurationError) as error:
    message = error.message if isinstance(error, ConfigurationError) else str(error)
    sys.exit(f"smartapp cannot start: {message}")
