"""REST API under /api/v1 (JSON, bearer-token auth) on the same Flask server."""

from api.routes import blueprint

__all__ = ["blueprint"]
