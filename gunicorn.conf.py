"""gunicorn settings, read from the working directory by every ``gunicorn`` run (the Dockerfile's included).

Only one: the ``Server`` header says ``icc`` (``auth.banner.SERVER_NAME``) instead of ``gunicorn`` (no framework
banner in production responses). Everything else is given on the command line (Dockerfile, docs/scaling.md).
"""

import gunicorn.http.wsgi

gunicorn.http.wsgi.SERVER = "icc"
