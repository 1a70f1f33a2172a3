"""The provider interface and the provider registry.

A provider turns a ``Prompt`` into text. Adding one (say an OpenAI-compatible local server) is one new module in
``ai/providers/``::

    from ai.providers.base import ProviderError, register_provider

    @register_provider("local_openai")
    class LocalOpenAIProvider:
        name = "local_openai"
        def __init__(self, *, base_url: str, model: str, timeout_s: float = 20.0) -> None: ...
        def generate(self, prompt: Prompt) -> str: ...   # raise ProviderError on failure

``create_provider("local_openai", base_url=..., model=...)`` then finds it: the registry imports every public module
of the package on first use. Whatever a provider returns still goes through ``ai.grounding`` before it is shown.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from typing import Protocol, runtime_checkable

from ..prompts import Prompt


class ProviderError(RuntimeError):
    """A provider could not produce text (network, HTTP status, timeout, empty or blocked answer)."""


@runtime_checkable
class Provider(Protocol):
    """Turns a prompt into text.

    Attributes
    ----------
    name : str
        Registry name of the provider ("gemini", "offline", ...), stored with the narrative.
    model : str
        Model id the text comes from, stored with the narrative.
    """

    name: str
    model: str

    def generate(self, prompt: Prompt) -> str:
        """Return the text for ``prompt``; raise ``ProviderError`` when none can be produced."""
        ...


ProviderFactory = Callable[..., Provider]
_REGISTRY: dict[str, ProviderFactory] = {}
_DISCOVERED = False


def register_provider(name: str) -> Callable[[ProviderFactory], ProviderFactory]:
    """Class / factory decorator: make ``create_provider(name, **options)`` build it."""

    def decorate(factory: ProviderFactory) -> ProviderFactory:
        existing = _REGISTRY.get(name)
        if existing is not None and existing is not factory:
            raise ValueError(f"name: provider {name!r} is already registered")
        _REGISTRY[name] = factory
        return factory

    return decorate


def _discover() -> None:
    """Import every public module of ``ai.providers`` once, so their ``@register_provider`` run."""
    global _DISCOVERED
    if _DISCOVERED:
        return
    package = importlib.import_module(__package__ or "ai.providers")
    for module in pkgutil.iter_modules(package.__path__):
        if not module.name.startswith("_") and module.name != "base":
            importlib.import_module(f"{package.__name__}.{module.name}")
    _DISCOVERED = True


def available_providers() -> tuple[str, ...]:
    """Names of the registered providers, sorted."""
    _discover()
    return tuple(sorted(_REGISTRY))


def create_provider(name: str, **options: object) -> Provider:
    """Build the provider registered as ``name`` with keyword ``options``.

    Raises
    ------
    ValueError
        If no provider is registered under ``name``.
    """
    _discover()
    try:
        factory = _REGISTRY[name]
    except KeyError:
        raise ValueError(f"name: unknown provider {name!r}; available: {', '.join(sorted(_REGISTRY))}") from None
    return factory(**options)
