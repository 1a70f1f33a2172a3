"""Narrative providers: one module each, registered by name (see ``ai.providers.base``)."""

from .base import Provider, ProviderError, available_providers, create_provider, register_provider

__all__ = ["Provider", "ProviderError", "available_providers", "create_provider", "register_provider"]
