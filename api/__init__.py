"""REST API under /api/v1 (JSON, bearer-token auth) on the same Flask server."""

from api import adjustments as _adjustments  # noqa: F401  (registers the /adjustments routes, issue 19 item 1)
from api import cycles as _cycles  # noqa: F401  (registers the /cycles routes on the blueprint)
from api import decisions as _decisions  # noqa: F401  (registers the /decisions route, issue 19 item 3)
from api import transfers as _transfers  # noqa: F401  (registers the transfer routes on the blueprint, issue 21)
from api.routes import blueprint

__all__ = ["blueprint"]
