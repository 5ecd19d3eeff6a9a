"""gunicorn settings for ``kontaktbok serve`` (``--config python:kontaktbok.gunicorn_conf``).

gunicorn has no option for its ``Server`` header and names itself there; the header tells an
attacker which server (and which bugs) to try, so each worker names the product instead.
"""

from typing import Any

SERVER_NAME = "kontaktbok"


def post_worker_init(worker: Any) -> None:
    import gunicorn.http.wsgi

    gunicorn.http.wsgi.SERVER = SERVER_NAME
