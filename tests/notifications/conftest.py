import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class SmsGateway:
    """A local HTTP SMS gateway that records what arrives and answers as told."""

    def __init__(self):
        self.received: list[dict] = []
        self.answers: list[int] = []  # status codes to give, in order; then 200
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                status = gateway.answers.pop(0) if gateway.answers else 200
                gateway.received.append(
                    {
                        "body": body,
                        "status": status,
                        "key": self.headers.get("Idempotency-Key"),
                        "auth": self.headers.get("Authorization"),
                    }
                )
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(json.dumps({"id": len(gateway.received)}).encode())

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def accepted(self):
        return [r for r in self.received if r["status"] < 300]


@pytest.fixture
def sms_gateway(settings):
    gateway = SmsGateway()
    settings.SMS_GATEWAY = "http"
    settings.SMS_URL = gateway.url
    settings.SMS_USER = "kontaktbok"
    settings.SMS_PASSWORD = "hemmeleg"
    try:
        yield gateway
    finally:
        gateway.server.shutdown()
        gateway.server.server_close()
