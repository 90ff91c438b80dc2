"""An empty WSGI app answering a gate-sized JSON body: bench/gate.py serves it with the same gunicorn settings to
show the floor this machine and load generator put under any Python web answer."""

BODY = b'{"allowed":true}'.ljust(420, b" ")


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))])
    return [BODY]
