"""Errors whose message is safe and useful to show to a user (CLI, pages, API)."""


class UserFacingError(Exception):
    """A request that cannot be carried out, with a message for the user."""
