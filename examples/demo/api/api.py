"""The demo's api service: a JSON API on $PORT using only the standard library."""

import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        env = {k: v for k, v in os.environ.items()
               if k.startswith("GAE_") or k in ("GOOGLE_CLOUD_PROJECT", "PORT")}
        if self.path.rstrip("/") in ("", "/api"):
            body = {"service": os.environ.get("GAE_SERVICE"),
                    "instance": os.environ.get("GAE_INSTANCE"),
                    "message": "hello from the api service"}
        elif self.path.rstrip("/") in ("/env", "/api/env"):
            body = env
        else:
            self.send_error(404, "no such endpoint")
            return
        data = (json.dumps(body) + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt, *args):
        # Access lines go to stderr by default; stdout keeps them in the
        # instance's normal log.
        print("%s %s" % (self.command, self.path), flush=True)


port = int(os.environ.get("PORT", "8081"))
print("api service listening on :%d" % port, flush=True)
try:
    ThreadingHTTPServer(("", port), Handler).serve_forever()
except KeyboardInterrupt:
    sys.exit(0)
