"""REST API under /api/v1 (JSON, bearer-token auth) on the same Flask server."""

from api import adjustments as _adjustments  # noqa: F401  (registers the /adjustments routes, issue 19 item 1)
from api import backtest as _backtest  # noqa: F401  (registers GET /backtest on the blueprint, issue 24)
from api import briefings as _briefings  # noqa: F401  (registers the briefing downloads on the blueprint)
from api import cycles as _cycles  # noqa: F401  (registers the /cycles routes on the blueprint)
from api import decisions as _decisions  # noqa: F401  (registers the /decisions route, issue 19 item 3)
from api import imports as _imports  # noqa: F401  (registers POST /imports/<kind> on the blueprint)
from api import promotions as _promotions  # noqa: F401  (registers the /promotions route, issue 20)
from api import supply as _supply  # noqa: F401  (registers GET /supply-plan on the blueprint)
from api import transfers as _transfers  # noqa: F401  (registers the transfer routes on the blueprint, issue 21)
from api.routes import blueprint

__all__ = ["blueprint"]
