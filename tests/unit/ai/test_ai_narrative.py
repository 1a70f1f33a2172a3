"""write_commentary, facts_hash and the provider registry (no network: stub providers only)."""

from __future__ import annotations

import pandas as pd
import pytest

from ai.facts import PortfolioFacts, SkuFacts, sku_facts
from ai.narrative import Commentary, facts_hash, write_commentary
from ai.prompts import PROMPT_VERSION, Prompt
from ai.providers import base
from ai.providers.base import Provider, ProviderError, available_providers, create_provider, register_provider
from ai.providers.offline import OfflineWriter
from tests.unit.ai.ai_samples import make_row


class Stub:
    """A provider that returns a fixed text or raises."""

    name = "stub"
    model = "stub-1"

    def __init__(self, text: str | None = None, error: Exception | None = None) -> None:
        self.text, self.error, self.prompts = text, error, []

    def generate(self, prompt: Prompt) -> str:
        self.prompts.append(prompt)
        if self.error is not None:
            raise self.error
        return self.text or ""


def test_facts_hash_is_stable_and_sensitive(portfolio: PortfolioFacts) -> None:
    digest = facts_hash(portfolio, "portfolio_v1")
    assert len(digest) == 64 and int(digest, 16) >= 0
    rebuilt = PortfolioFacts.model_validate_json(portfolio.model_dump_json())
    assert facts_hash(rebuilt, "portfolio_v1") == digest
    assert facts_hash(portfolio, "portfolio_v2") != digest
    changed = portfolio.model_copy(update={"fill_rate_pct": 97.4})
    assert facts_hash(changed, "portfolio_v1") != digest
    with pytest.raises(ValueError, match="prompt_version"):
        facts_hash(portfolio, "")
    with pytest.raises(ValueError, match="facts"):
        facts_hash({"fill_rate_pct": 97.3}, "portfolio_v1")  # type: ignore[arg-type]


def test_facts_hash_ignores_int_float_spelling() -> None:
    row = make_row("normal")
    from_dict = sku_facts(row=row)
    from_series = sku_facts(row=pd.Series(row))
    assert facts_hash(from_dict, "sku_v1") == facts_hash(from_series, "sku_v1")
    as_float = from_dict.model_copy(update={"reorder_point": float(from_dict.reorder_point)})
    assert facts_hash(as_float, "sku_v1") == facts_hash(from_dict, "sku_v1")


def test_offline_provider_is_shown_without_fallback(portfolio: PortfolioFacts) -> None:
    commentary = write_commentary(facts=portfolio, provider=OfflineWriter())
    assert isinstance(commentary, Commentary)
    assert (commentary.provider, commentary.model, commentary.requested_provider) == (
        "offline",
        "offline-v1",
        "offline",
    )
    assert commentary.grounded and not commentary.fell_back and commentary.reasons == ()
    assert commentary.scope == "portfolio" and commentary.prompt_version == f"portfolio_{PROMPT_VERSION}"
    assert commentary.facts_hash == facts_hash(portfolio, f"portfolio_{PROMPT_VERSION}")


def test_a_grounded_stub_answer_is_shown(sku_facts_by_status: dict[str, SkuFacts]) -> None:
    facts = sku_facts_by_status["overstock"]
    stub = Stub("Copper wire CW-3 has 182 days of cover. The excess is worth $9,412.")
    commentary = write_commentary(facts=facts, provider=stub)
    assert commentary.text == stub.text and commentary.provider == "stub" and not commentary.fell_back
    assert stub.prompts[0].facts is facts and stub.prompts[0].version == f"sku_{PROMPT_VERSION}"


@pytest.mark.parametrize(
    ("stub", "reason"),
    [
        (Stub(error=ProviderError("quota")), "stub failed: quota"),
        (Stub(error=RuntimeError("bug")), "stub failed: bug"),
        (Stub("Copper wire CW-3 has 183 days of cover. Fine."), "number '183' is not in the facts"),
        (Stub(""), "empty text"),
    ],
)
def test_failures_fall_back_to_the_offline_writer(sku_facts_by_status, stub: Stub, reason: str) -> None:
    facts = sku_facts_by_status["overstock"]
    commentary = write_commentary(facts=facts, provider=stub)
    assert commentary.fell_back and commentary.grounded
    assert (commentary.provider, commentary.requested_provider) == ("offline", "stub")
    assert commentary.text == OfflineWriter().write(facts)
    assert reason in commentary.reasons


def test_a_custom_fallback_is_used_and_a_broken_one_gives_way_to_offline(portfolio: PortfolioFacts) -> None:
    backup = Stub("Fill rate is 97.3%. Value at risk is $34,952.")
    backup.name = "backup"
    commentary = write_commentary(facts=portfolio, provider=Stub(error=ProviderError("down")), fallback=backup)
    assert commentary.provider == "backup" and commentary.text == backup.text and commentary.fell_back

    broken = Stub(error=ProviderError("also down"))
    commentary = write_commentary(facts=portfolio, provider=Stub(error=ProviderError("down")), fallback=broken)
    assert commentary.provider == "offline" and commentary.grounded
    assert any("fallback failed" in reason for reason in commentary.reasons)


def test_registry_lists_and_builds_providers() -> None:
    assert {"gemini", "offline"} <= set(available_providers())
    writer = create_provider("offline", max_sentences=5)
    assert isinstance(writer, OfflineWriter) and writer.max_sentences == 5
    assert isinstance(writer, Provider) and isinstance(Stub(), Provider)
    with pytest.raises(ValueError, match="unknown provider 'nope'"):
        create_provider("nope")
    with pytest.raises(ValueError, match="already registered"):
        register_provider("offline")(Stub)


def test_a_new_provider_is_one_registration(portfolio: PortfolioFacts) -> None:
    try:

        @register_provider("echo_test")
        class Echo(Stub):
            name = "echo_test"

        provider = create_provider("echo_test", text="Fill rate is 97.3%. The portfolio holds 20 SKUs.")
        commentary = write_commentary(facts=portfolio, provider=provider)
        assert commentary.provider == "echo_test" and not commentary.fell_back
    finally:
        base._REGISTRY.pop("echo_test", None)
