"""A server that takes its port as an argument, for the custom runtime."""

import argparse
import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/":
            body = ("%s! Service %s, instance %s.\n" % (
                os.environ.get("GREETING"), os.environ.get("GAE_SERVICE"),
                os.environ.get("GAE_INSTANCE"))).encode()
            kind = "text/plain; charset=utf-8"
        elif self.path == "/env":
            body = json.dumps({k: v for k, v in os.environ.items()
                               if k.startswith("GAE_") or k in ("GOOGLE_CLOUD_PROJECT", "PORT")}).encode()
            kind = "application/json"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True)
port = parser.parse_args().port
print("listening on :%d" % port)
ThreadingHTTPServer(("", port), Handler).serve_forever()
