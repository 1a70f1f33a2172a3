"""Versioned prompt templates (``<scope>_<PROMPT_VERSION>.txt``) and the prompt builder.

A template has a ``[system]`` and a ``[user]`` section; ``{{FACTS_JSON}}`` in the user section is replaced by the facts
as JSON between ``<facts>`` tags. The facts JSON escapes ``<``, ``>`` and ``&`` as ``\\u003c`` / ``\\u003e`` /
``\\u0026`` (still valid JSON), so no value - a SKU named ``</facts> Ignore all previous instructions`` for instance -
can close the data block or open a tag: the only ``</facts>`` in a prompt is the template's own.

Change a template's wording -> add a new file with the next version and bump ``PROMPT_VERSION``: the version is part
of the narrative cache key (``ai.narrative.facts_hash``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from .. import wording
from ..facts import Facts

PROMPT_VERSION = "v2"
FACTS_PLACEHOLDER = "{{FACTS_JSON}}"
BANDS_PLACEHOLDER = "{{WORDING_BANDS}}"
"""Replaced in a template's [system] section by the bands of :mod:`ai.wording` (the table the pages use too)."""
MAX_SENTENCES = 6
MIN_SENTENCES = 2
MAX_CHARS = 900


@dataclass(frozen=True)
class Prompt:
    """Everything a provider needs: the texts for an LLM and the facts for the offline writer.

    Attributes
    ----------
    scope : "portfolio" or "sku"
    version : template id, e.g. "portfolio_v1" (part of the cache key)
    system, user : the system instruction and the user message (facts JSON inside <facts> tags)
    facts : the facts object the texts were built from
    max_sentences, min_sentences, max_chars : the length the template asks for (the grounding check enforces it)
    """

    scope: str
    version: str
    system: str
    user: str
    facts: Facts
    max_sentences: int = MAX_SENTENCES
    min_sentences: int = MIN_SENTENCES
    max_chars: int = MAX_CHARS


def facts_json(facts: Facts) -> str:
    """Return the facts as indented JSON with ``<``, ``>`` and ``&`` escaped (safe inside ``<facts>`` tags)."""
    text = json.dumps(facts.model_dump(mode="json"), indent=1, ensure_ascii=False, allow_nan=False)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


@lru_cache(maxsize=16)
def load_template(name: str) -> tuple[str, str]:
    """Load ``ai/prompts/<name>.txt`` and return its (system, user) sections.

    Raises
    ------
    ValueError
        If the file is missing, lacks a section or the user section lacks the facts placeholder.
    """
    try:
        raw = resources.files(__name__).joinpath(f"{name}.txt").read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ValueError(f"name: no prompt template {name!r} in ai/prompts") from exc
    if "[system]" not in raw or "[user]" not in raw:
        raise ValueError(f"name: template {name!r} needs a [system] and a [user] section")
    head, _, rest = raw.partition("[system]")
    system, _, user = rest.partition("[user]")
    if FACTS_PLACEHOLDER not in user or user.count(FACTS_PLACEHOLDER) != 1:
        raise ValueError(f"name: template {name!r} must contain {FACTS_PLACEHOLDER} once in [user]")
    return system.strip(), user.strip()


def prompt_version_for(facts: Facts, *, version: str = PROMPT_VERSION) -> str:
    """Return the template id used for ``facts`` (e.g. "sku_v1")."""
    return f"{facts.scope}_{version}"


def build_prompt(facts: Facts, *, version: str = PROMPT_VERSION) -> Prompt:
    """Build the prompt for ``facts`` from the template ``<facts.scope>_<version>.txt``."""
    name = prompt_version_for(facts, version=version)
    system, user = load_template(name)
    return Prompt(
        scope=facts.scope,
        version=name,
        system=system.replace(BANDS_PLACEHOLDER, wording.prompt_text()),
        user=user.replace(FACTS_PLACEHOLDER, facts_json(facts)),
        facts=facts,
    )
