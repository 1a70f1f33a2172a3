"""No framework banner: the servers name themselves ``Server: icc`` instead of their software and Python versions.

The development server (``python cli.py serve``) uses :class:`QuietRequestHandler`; gunicorn reads
``gunicorn.conf.py`` in the project root, which sets the same name.
"""

from __future__ import annotations

from werkzeug.serving import WSGIRequestHandler

SERVER_NAME = "icc"


class QuietRequestHandler(WSGIRequestHandler):
    """Werkzeug's request handler without ``Werkzeug/x.y Python/x.y`` in the ``Server`` header."""

    def version_string(self) -> str:
        return SERVER_NAME
