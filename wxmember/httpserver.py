"""A WSGI app on a loopback port in a background thread (CRM simulator, tests, trials)."""

import threading

from werkzeug.serving import make_server


class BackgroundServer:
    """Serves ``app`` on ``127.0.0.1:port`` (0 = any free port) until ``stop``."""

    def __init__(self, app, port=0):
        self.app = app
        self.server = make_server("127.0.0.1", port, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def start(self):
        """Start serving; returns self."""
        self.thread.start()
        return self

    def stop(self):
        """Stop serving and wait for the thread."""
        self.server.shutdown()
        self.thread.join(5)
