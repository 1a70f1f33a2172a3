"""Narrative: facts -> prompt -> provider (Gemini via google-genai, or the offline writer) -> checked text.

Public API::

    from ai import portfolio_facts, sku_facts, write_commentary, provider_from_settings, facts_hash

    provider = provider_from_settings(gemini_api_key=settings.gemini_api_key, gemini_model=..., gemini_base_url=...,
                                      timeout_s=20, max_retries=2)
    facts = portfolio_facts(snapshot=snapshot_df, kpis=kpis, previous_kpis=previous_kpis, as_of=run_date)
    commentary = write_commentary(facts=facts, provider=provider)   # never raises for a provider failure

Pure: no database, no settings, no Dash. The only I/O is the provider's HTTP call.
"""

from .facts import PortfolioFacts, SkuBrief, SkuFacts, portfolio_facts, sku_facts
from .grounding import GroundingResult, check_text
from .narrative import Commentary, facts_hash, provider_from_settings, write_commentary
from .prompts import PROMPT_VERSION, Prompt, build_prompt
from .providers.base import Provider, ProviderError, available_providers, create_provider, register_provider
from .providers.offline import OfflineWriter

__all__ = [
    "PROMPT_VERSION",
    "Commentary",
    "GroundingResult",
    "OfflineWriter",
    "PortfolioFacts",
    "Prompt",
    "Provider",
    "ProviderError",
    "SkuBrief",
    "SkuFacts",
    "available_providers",
    "build_prompt",
    "check_text",
    "create_provider",
    "facts_hash",
    "portfolio_facts",
    "provider_from_settings",
    "register_provider",
    "sku_facts",
    "write_commentary",
]
