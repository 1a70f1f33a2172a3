"""Facts -> prompt -> provider -> grounding check -> commentary (with the offline writer as the safety net).

The service layer builds facts (``ai.facts``), picks a provider once (``provider_from_settings``) and calls
``write_commentary``. Cache narratives by ``Commentary.facts_hash`` (= ``facts_hash(facts, prompt_version)``); a
commentary with ``fell_back=True`` came from the offline writer because the model failed, so a cache may prefer to
retry the model later rather than keep it.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from pydantic import BaseModel, ConfigDict

from .facts import Facts, PortfolioFacts, SkuFacts
from .grounding import check_text
from .prompts import PROMPT_VERSION, Prompt, build_prompt
from .providers.base import Provider
from .providers.offline import OfflineWriter

logger = logging.getLogger(__name__)


class Commentary(BaseModel):
    """A checked narrative, ready to show and to store in the ``narrative`` table.

    Attributes
    ----------
    text : str
        The text to show (plain, grounded unless ``grounded`` is False).
    provider, model : str
        Who wrote ``text`` ("offline" / "offline-v1" after a fallback).
    requested_provider : str
        The provider that was asked first.
    scope : "portfolio" or "sku"
    prompt_version : str
        Template id, e.g. "portfolio_v1".
    facts_hash : str
        sha256 of the canonical facts JSON and the prompt version (the cache key).
    grounded : bool
        ``text`` passed ``ai.grounding.check_text``.
    fell_back : bool
        The requested provider failed (error or check) and the fallback's text is shown.
    reasons : tuple of str
        Why the requested provider's text was not used (empty when it was).
    """

    model_config = ConfigDict(frozen=True)

    text: str
    provider: str
    model: str
    requested_provider: str
    scope: str
    prompt_version: str
    facts_hash: str
    grounded: bool
    fell_back: bool
    reasons: tuple[str, ...] = ()


def _canonical(value: Any) -> Any:
    if isinstance(value, float):
        if value == 0:
            return 0
        return int(value) if value.is_integer() else value
    if isinstance(value, dict):
        return {str(key): _canonical(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(item) for item in value]
    return value


def facts_hash(facts: Facts, prompt_version: str) -> str:
    """Return the sha256 hex digest of ``{"facts": ..., "prompt_version": ...}`` as canonical JSON.

    Canonical = sorted keys, no whitespace, ASCII escapes, integral floats written as integers (12.0 -> 12),
    so equal facts give equal hashes across processes and runs.
    """
    if not isinstance(facts, SkuFacts | PortfolioFacts):
        raise ValueError(f"facts must be SkuFacts or PortfolioFacts, got {type(facts).__name__}")
    if not prompt_version:
        raise ValueError("prompt_version must be a non-empty string")
    payload = {"facts": _canonical(facts.model_dump(mode="json")), "prompt_version": prompt_version}
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    return hashlib.sha256(blob.encode("ascii")).hexdigest()


def _check(text: str | None, prompt: Prompt) -> tuple[bool, str, tuple[str, ...]]:
    result = check_text(
        text,
        facts=prompt.facts,
        max_sentences=prompt.max_sentences,
        min_sentences=prompt.min_sentences,
        max_chars=prompt.max_chars,
    )
    return result.ok, result.text, result.reasons


def write_commentary(
    *,
    facts: Facts,
    provider: Provider,
    fallback: Provider | None = None,
    prompt_version: str = PROMPT_VERSION,
) -> Commentary:
    """Write, check and return the commentary for ``facts``.

    Parameters
    ----------
    facts : SkuFacts or PortfolioFacts
    provider : Provider
        Asked first (Gemini, the offline writer, ...). Any exception it raises counts as a failure.
    fallback : Provider, optional
        Used when ``provider`` fails or its text fails the grounding check; default ``OfflineWriter()``.
    prompt_version : str
        Template version (``ai.prompts.PROMPT_VERSION``).

    Returns
    -------
    Commentary
        Never raises for a provider failure: the fallback's text is returned with ``fell_back=True`` and the reasons.
        If the fallback's text also fails the check (it should not) it is still returned with ``grounded=False``.
    """
    fallback = fallback or OfflineWriter()
    prompt = build_prompt(facts, version=prompt_version)
    digest = facts_hash(facts, prompt.version)
    common = {"requested_provider": provider.name, "scope": prompt.scope, "prompt_version": prompt.version}

    try:
        raw = provider.generate(prompt)
    except Exception as exc:  # noqa: BLE001 - any provider failure means: use the fallback
        reasons: tuple[str, ...] = (f"{provider.name} failed: {exc}",)
        logger.warning("narrative provider %s failed: %s", provider.name, exc)
    else:
        ok, text, reasons = _check(raw, prompt)
        if ok:
            return Commentary(
                text=text,
                provider=provider.name,
                model=provider.model,
                facts_hash=digest,
                grounded=True,
                fell_back=False,
                reasons=(),
                **common,
            )
        logger.warning("narrative from %s failed the grounding check: %s", provider.name, "; ".join(reasons))

    try:
        fallback_raw = fallback.generate(prompt)
    except Exception as exc:
        if isinstance(fallback, OfflineWriter):
            raise
        logger.warning("narrative fallback %s failed: %s", fallback.name, exc)
        fallback = OfflineWriter()
        reasons = (*reasons, f"{fallback.name} fallback failed: {exc}")
        fallback_raw = fallback.generate(prompt)
    ok, text, fallback_reasons = _check(fallback_raw, prompt)
    if not ok:
        logger.error("fallback narrative failed the grounding check: %s", "; ".join(fallback_reasons))
        text = text or fallback_raw.strip()
        reasons = (*reasons, *(f"fallback: {reason}" for reason in fallback_reasons))
    return Commentary(
        text=text,
        provider=fallback.name,
        model=fallback.model,
        facts_hash=digest,
        grounded=ok,
        fell_back=True,
        reasons=reasons,
        **common,
    )


def _secret(value: Any) -> str:
    if value is None:
        return ""
    getter = getattr(value, "get_secret_value", None)  # pydantic SecretStr
    return str(getter() if callable(getter) else value).strip()


def provider_from_settings(
    *,
    gemini_api_key: Any = None,
    gemini_model: str | None = None,
    gemini_base_url: str | None = None,
    timeout_s: float = 20.0,
    max_retries: int = 2,
) -> Provider:
    """Return the Gemini provider when a key is set (str or pydantic ``SecretStr``), else the offline writer."""
    key = _secret(gemini_api_key)
    if not key:
        return OfflineWriter()
    from .providers.gemini import DEFAULT_MODEL, GeminiProvider

    return GeminiProvider(
        api_key=key,
        model=(gemini_model or "").strip() or DEFAULT_MODEL,
        base_url=(gemini_base_url or "").strip() or None,
        timeout_s=timeout_s,
        max_retries=max_retries,
    )
