"""A server for each way of handing its port to appdeck.

    server.py env          listens on $PORT
    server.py argv PORT    listens on PORT (the entrypoint passes {port})
    server.py file         listens on a port of its own, writes it to $APPDECK_PORT_FILE
    server.py stdout       listens on a port of its own, prints it first on stdout
    server.py stdout-host  the same, as dev_appserver.py's "HOST<tab>PORT"
    server.py stdout-bad   prints something else first
"""

import os
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

mode = sys.argv[1]
port = {"env": lambda: int(os.environ["PORT"]),
        "argv": lambda: int(sys.argv[2])}.get(mode, lambda: 0)()
server = HTTPServer(("127.0.0.1", port), BaseHTTPRequestHandler)
port = server.server_address[1]


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = ("%s %d %s" % (mode, port, os.environ["PORT"])).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


server.RequestHandlerClass = Handler
if mode == "file":
    with open(os.environ["APPDECK_PORT_FILE"], "w") as f:
        f.write("%d\n" % port)
elif mode == "stdout":
    print(port, flush=True)
elif mode == "stdout-host":
    print("127.0.0.1\t%d" % port, flush=True)
elif mode == "stdout-bad":
    print("hello %d" % port, flush=True)
print("serving", flush=True)
server.serve_forever()
