"""Serves a greeting from hello_appdeck, which only the virtualenv has."""

import json
import os
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

import hello_appdeck


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"greeting": hello_appdeck.greeting(), "python": sys.executable,
                           "virtual_env": os.environ.get("VIRTUAL_ENV", "")}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


HTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
