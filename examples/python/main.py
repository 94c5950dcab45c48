"""A Python App Engine app: Flask, served by gunicorn as `main:app`."""

import os

from flask import Flask, jsonify

app = Flask(__name__)


@app.route("/")
def home():
    return "%s! Service %s, instance %s.\n" % (
        os.environ.get("GREETING"), os.environ.get("GAE_SERVICE"), os.environ.get("GAE_INSTANCE"))


@app.route("/env")
def env():
    """The variables App Engine sets, as JSON."""
    return jsonify({k: v for k, v in os.environ.items()
                    if k.startswith("GAE_") or k in ("GOOGLE_CLOUD_PROJECT", "PORT")})
