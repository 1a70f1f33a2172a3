"""REST API under /api/v1 (JSON, bearer-token auth) on the same Flask server."""

from api import cycles as _cycles  # noqa: F401  (registers the /cycles routes on the blueprint)
from api import decisions as _decisions  # noqa: F401  (registers the /decisions route, issue 19 item 3)
from api import promotions as _promotions  # noqa: F401  (registers the /promotions route, issue 20)
from api import transfers as _transfers  # noqa: F401  (registers the transfer routes on the blueprint, issue 21)
from api.routes import blueprint

__all__ = ["blueprint"]
