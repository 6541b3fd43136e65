"""Keeping personal secrets out of what people see: screens, logs, exports, the audit view.

The event log itself holds a badge's token (the desk must reprint it) and an operator's PIN hash
(the station must check PINs), but neither ever leaves through a view built here. Identity
documents are stored only as their last 4 characters; `mask_document` is for anything that
still has a whole number in hand (a typed field, an error message).
"""

from __future__ import annotations

import logging
import re
from typing import Any

# Payload keys whose values are secrets: dropped from every view.
SECRET_KEYS = frozenset({"token", "pin", "pin_hash", "signing_key", "private_key", "password"})
# Payload keys that would carry a whole identity document number: shown masked.
DOCUMENT_KEYS = frozenset({"document_number", "passport_number", "document_no", "passport_no"})

# A badge token is 80+ base32 characters in one run; nothing else we show looks like that.
_TOKEN_RUN = re.compile(r"[A-Za-z2-7]{60,}")
_SCRYPT_HASH = re.compile(r"scrypt\$[^\s\"',]+")


def mask_document(number: str) -> str:
    """'X1234567' -> '…4567': the last 4 characters, never more."""
    cleaned = "".join(ch for ch in str(number) if ch.isalnum())
    return f"…{cleaned[-4:]}" if cleaned else ""


def scrub_text(text: str) -> str:
    """Replace anything that looks like a badge token or a PIN hash inside free text."""
    text = _SCRYPT_HASH.sub("[pin hash]", text)
    return _TOKEN_RUN.sub("[token]", text)


def scrub_payload(payload: Any) -> Any:
    """A copy of an event payload (or any JSON value) that is safe to show or export."""
    if isinstance(payload, dict):
        clean: dict[str, Any] = {}
        for key, value in payload.items():
            lowered = str(key).lower()
            if lowered in SECRET_KEYS or lowered.endswith("_hash"):
                continue
            if lowered in DOCUMENT_KEYS:
                clean[key] = mask_document(value)
            else:
                clean[key] = scrub_payload(value)
        return clean
    if isinstance(payload, list):
        return [scrub_payload(item) for item in payload]
    if isinstance(payload, str):
        return scrub_text(payload)
    return payload


class RedactingFilter(logging.Filter):
    """Logging filter that scrubs tokens and PIN hashes from every record before it is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        scrubbed = scrub_text(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        return True


def install_log_redaction(logger: logging.Logger | None = None) -> RedactingFilter:
    """Attach the redacting filter to the handlers of `logger` (default: the root logger)."""
    target = logger or logging.getLogger()
    redactor = RedactingFilter()
    target.addFilter(redactor)
    for handler in target.handlers:
        handler.addFilter(redactor)
    return redactor
