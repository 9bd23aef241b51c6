"""WSGI entry point: `gunicorn wsgi:app`."""
from heshan_map import create_app

app = create_app()
