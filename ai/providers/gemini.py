"""Gemini through the ``google-genai`` SDK (not the deprecated ``google-generativeai``).

Retries are a ``tenacity.Retrying`` of ours, not the SDK's ``HttpRetryOptions`` (the client is built without retry
options, which in google-genai 3.x means one attempt per call). Reasons, checked against the SDK's source: its own
tenacity loop sleeps with ``time.sleep`` (tests could not inject a sleep), it also retries read timeouts (with a 20 s
timeout and 4 retries a page would wait minutes) and it ignores the ``RetryInfo.retryDelay`` a 429 quota answer
carries. Here:

- retried: HTTP 408 / 429 / 500 / 502 / 503 / 504 and connection errors, at most ``max_retries`` times;
- delay before retry k (0-based) = min(backoff_max_s, backoff_initial_s x 2**k); on a 429 that names a retry delay
  the wait is at least that delay, and if the server asks for longer than ``backoff_max_s`` we give up at once;
- not retried: timeouts (the wait already cost ``timeout_s``; set ``retry_timeouts=True`` to change that), other
  4xx answers (bad key, bad request), empty, blocked or truncated answers.
Worst case wall time ~ (max_retries + 1) x timeout_s + the sum of the delays.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any

import tenacity

from ..prompts import Prompt
from .base import ProviderError, register_provider

DEFAULT_MODEL = "gemini-2.5-flash"
DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com/"
API_VERSION = "v1beta"
RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})


class _RetryableError(Exception):
    """One failed attempt that may be retried: ``failure`` words it, ``hint`` is the wait the server asked for."""

    def __init__(self, failure: str, cause: BaseException, hint: float | None = None) -> None:
        super().__init__(failure)
        self.failure, self.cause, self.hint = failure, cause, hint


def _transport_errors() -> tuple[tuple[type[BaseException], ...], tuple[type[BaseException], ...]]:
    """(timeout errors, connection errors) of whichever httpx flavour the SDK uses (httpx2 and/or httpx)."""
    timeouts: list[type[BaseException]] = []
    connects: list[type[BaseException]] = []
    for module_name in ("httpx2", "httpx"):
        try:
            module = __import__(module_name)
        except ImportError:
            continue
        timeouts.append(module.TimeoutException)
        connects.extend([module.ConnectError, module.RemoteProtocolError])
    return tuple(timeouts), tuple(connects)


def _retry_delay_hint(exc: Any) -> float | None:
    """Seconds the server asks us to wait: google.rpc.RetryInfo.retryDelay ("17s") or a Retry-After header."""
    details = getattr(exc, "details", None)
    error = details.get("error", details) if isinstance(details, dict) else None
    for item in (error or {}).get("details", []) if isinstance(error, dict) else []:
        if isinstance(item, dict) and str(item.get("@type", "")).endswith("RetryInfo"):
            match = re.fullmatch(r"\s*([0-9.]+)s\s*", str(item.get("retryDelay", "")))
            if match:
                return float(match.group(1))
    headers = getattr(getattr(exc, "response", None), "headers", None)
    value = headers.get("retry-after") if headers is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


@register_provider("gemini")
class GeminiProvider:
    """Gemini ``generateContent`` with a bounded, injectable-sleep retry loop.

    Parameters
    ----------
    api_key : str
        Gemini API key (required, also with a custom base URL).
    model : str
        Model id, default "gemini-2.5-flash".
    base_url : str, optional
        Proxy / gateway / test server URL; default Google's endpoint. The API version is always "v1beta".
    timeout_s : float
        Per-request timeout in seconds (sent to the SDK in milliseconds).
    max_retries : int
        Retries after the first attempt (0 = one attempt).
    backoff_initial_s, backoff_max_s : float
        Exponential backoff: min(backoff_max_s, backoff_initial_s x 2**k) before retry k.
    retry_timeouts : bool
        Also retry after a timeout (off by default).
    temperature, max_output_tokens : generation settings.
    thinking_budget : int, optional
        Sent as ``ThinkingConfig(thinking_budget=...)`` when given (0 turns thinking off on 2.5 Flash models;
        thinking tokens count against ``max_output_tokens``).
    sleep : callable
        ``sleep(seconds)``; tests pass a recorder.
    """

    name = "gemini"

    def __init__(
        self,
        *,
        api_key: str,
        model: str = DEFAULT_MODEL,
        base_url: str | None = None,
        timeout_s: float = 20.0,
        max_retries: int = 2,
        backoff_initial_s: float = 1.0,
        backoff_max_s: float = 8.0,
        retry_timeouts: bool = False,
        temperature: float = 0.2,
        max_output_tokens: int = 2048,
        thinking_budget: int | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not api_key or not str(api_key).strip():
            raise ValueError("api_key must be a non-empty string")
        if timeout_s <= 0:
            raise ValueError(f"timeout_s must be > 0, got {timeout_s}")
        if max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {max_retries}")
        if backoff_initial_s < 0 or backoff_max_s < 0:
            raise ValueError("backoff_initial_s and backoff_max_s must be >= 0")
        from google import genai
        from google.genai import types

        self.model = model or DEFAULT_MODEL
        self.base_url = base_url or DEFAULT_BASE_URL
        self.timeout_s = float(timeout_s)
        self.max_retries = int(max_retries)
        self.backoff_initial_s = float(backoff_initial_s)
        self.backoff_max_s = float(backoff_max_s)
        self.retry_timeouts = retry_timeouts
        self._sleep = sleep
        self._types = types
        self._timeouts, self._connect_errors = _transport_errors()
        self._client = genai.Client(
            vertexai=False,  # the Gemini API, whatever GOOGLE_GENAI_USE_VERTEXAI says
            api_key=str(api_key).strip(),
            http_options=types.HttpOptions(
                base_url=self.base_url,
                api_version=API_VERSION,
                timeout=max(1, int(round(self.timeout_s * 1000))),
            ),
        )
        self._config_options: dict[str, Any] = {"temperature": temperature, "max_output_tokens": max_output_tokens}
        if thinking_budget is not None:
            self._config_options["thinking_config"] = types.ThinkingConfig(thinking_budget=thinking_budget)

    def __repr__(self) -> str:  # never show the key
        return f"GeminiProvider(model={self.model!r}, base_url={self.base_url!r})"

    def close(self) -> None:
        """Close the SDK client's connections."""
        close = getattr(self._client, "close", None)
        if callable(close):
            close()

    def _backoff(self, attempt: int) -> float:
        return min(self.backoff_max_s, self.backoff_initial_s * (2**attempt))

    def generate(self, prompt: Prompt) -> str:
        """Send ``prompt`` (system instruction + user message) and return the answer's text.

        Raises
        ------
        ProviderError
            After the retries are spent, on a non-retryable error, or on an empty / blocked / truncated answer.
        """
        from google.genai import errors

        config = self._types.GenerateContentConfig(system_instruction=prompt.system, **self._config_options)
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(_RetryableError),
            stop=tenacity.stop_after_attempt(self.max_retries + 1),
            wait=self._wait,
            sleep=self._sleep,
            reraise=True,
        )
        try:
            return retrying(self._attempt, prompt, config, errors)
        except _RetryableError as last:
            attempts = retrying.statistics.get("attempt_number", self.max_retries + 1)
            raise ProviderError(f"{last.failure} (after {attempts} attempts)") from last.cause

    def _wait(self, state: tenacity.RetryCallState) -> float:
        """Before retry k (0-based): min(backoff_max_s, backoff_initial_s x 2**k), at least a 429's retry delay."""
        delay = self._backoff(state.attempt_number - 1)
        error = state.outcome.exception() if state.outcome is not None else None
        hint = error.hint if isinstance(error, _RetryableError) else None
        return max(delay, hint) if hint is not None else delay

    def _attempt(self, prompt: Prompt, config: Any, errors: Any) -> str:
        """One call: the answer's text, :class:`_RetryableError` for what may be retried, ProviderError for the rest."""
        try:
            response = self._client.models.generate_content(model=self.model, contents=prompt.user, config=config)
        except (errors.UnknownApiResponseError, json.JSONDecodeError) as exc:  # e.g. a proxy's HTML error page
            raise ProviderError("gemini answer is not valid JSON") from exc
        except errors.APIError as exc:
            failure = f"gemini HTTP {exc.code} {exc.status or ''}".strip()
            if exc.code not in RETRYABLE_STATUS:
                raise ProviderError(failure) from exc
            hint = _retry_delay_hint(exc) if exc.code == 429 else None
            if hint is not None and hint > self.backoff_max_s:
                raise ProviderError(f"{failure}: server asks to retry after {hint:g} s") from exc
            raise _RetryableError(failure, exc, hint) from exc
        except self._timeouts as exc:
            failure = f"gemini timeout after {self.timeout_s:g} s"
            if not self.retry_timeouts:
                raise ProviderError(failure) from exc
            raise _RetryableError(failure, exc) from exc
        except self._connect_errors as exc:
            raise _RetryableError(f"gemini connection error: {type(exc).__name__}", exc) from exc
        return self._text_of(response)

    @staticmethod
    def _text_of(response: Any) -> str:
        feedback = getattr(response, "prompt_feedback", None)
        if feedback is not None and getattr(feedback, "block_reason", None):
            raise ProviderError(f"gemini blocked the prompt: {feedback.block_reason}")
        candidates = getattr(response, "candidates", None) or []
        if not candidates:
            raise ProviderError("gemini returned no candidates")
        finish = getattr(candidates[0], "finish_reason", None)
        finish_name = getattr(finish, "name", str(finish)) if finish is not None else "STOP"
        if finish_name not in ("STOP", "FINISH_REASON_UNSPECIFIED"):
            raise ProviderError(f"gemini answer not finished: {finish_name}")
        text = response.text
        if not text or not text.strip():
            raise ProviderError("gemini returned an empty answer")
        return text.strip()
