"""Aliyun SMS (dysmsapi, API version 2017-05-25, action SendSms) as an outbox sender
(SMS_PROVIDER=aliyun; notifications.outbox.load_sender builds it from the config).

A Chinese SMS provider sends registered templates, not free text: each message
kind has its template code (SMS_TEMPLATE_<KIND> or the SMS_TEMPLATES map), filled
with the message's params as TemplateParam (JSON), under the registered signature
SMS_SIGN_NAME. A kind without a template is not sent at all: the message stays in
the outbox with the missing setting named in its last_error.

The request is signed as Aliyun documents for RPC APIs (signature method V2:
SignatureMethod HMAC-SHA1, SignatureVersion 1.0): every parameter but Signature,
sorted by name, names and values percent-encoded (RFC 3986: only A-Z a-z 0-9 - _ .
~ stay literal; a space is %20), joined as name=value with &;
StringToSign = METHOD & percentEncode("/") & percentEncode(that query);
Signature = Base64(HMAC-SHA1(AccessKeySecret + "&", StringToSign)). The request
goes like the official SDK sends it: POST, the common parameters and Signature in
the query, the SendSms parameters (the phone among them) in a form-encoded body,
both signed together. The answer is JSON; Code "OK" is success, any other code
(or an HTTP error) raises SendError with the provider's code and message, so the
outbox keeps the message for a retry with the error recorded.

Logs carry the message id, the masked phone and the provider's ids, never the
phone in clear, the secret or the signed URL.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.client import HTTPException
from typing import Any
from urllib.error import HTTPError
from urllib.parse import quote
from urllib.request import Request, urlopen

from community.core.crypto import mask_phone
from community.notifications.delivery import Delivery, SenderNotConfigured, SendError, scrub

log = logging.getLogger("community")

API_VERSION = "2017-05-25"
DEFAULT_ENDPOINT = "https://dysmsapi.aliyuncs.com/"
DEFAULT_REGION = "cn-hangzhou"
# Aliyun refuses a template variable longer than this (isv.PARAM_LENGTH_LIMIT): a
# longer value (a duty's title, a reason) is cut, with an ellipsis.
PARAM_MAX = 35
METHOD = "POST"


def template_key(kind: str) -> str:
    """The one spelling of a kind in the template map: lower case, hyphens
    (SMS_TEMPLATE_HAZARD_ASSIGNED and "hazard-assigned" name the same kind)."""
    return kind.strip().lower().replace("_", "-")


def percent_encode(value: str) -> str:
    """RFC 3986 over UTF-8: only A-Z a-z 0-9 - _ . ~ stay literal."""
    return quote(value, safe="~")


def canonical_query(params: Mapping[str, str]) -> str:
    return "&".join(
        f"{percent_encode(name)}={percent_encode(params[name])}" for name in sorted(params)
    )


def string_to_sign(method: str, params: Mapping[str, str]) -> str:
    return f"{method}&{percent_encode('/')}&{percent_encode(canonical_query(params))}"


def sign(secret: str, method: str, params: Mapping[str, str]) -> str:
    """The Signature of a request with these parameters (Signature itself excluded)."""
    digest = hmac.new(
        f"{secret}&".encode(), string_to_sign(method, params).encode(), hashlib.sha1
    ).digest()
    return base64.b64encode(digest).decode()


def _timestamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _nonce() -> str:
    return str(uuid.uuid4())


def template_param(params: Mapping[str, Any] | None) -> str | None:
    """The TemplateParam JSON: every value as text, at most PARAM_MAX characters."""
    if not params:
        return None
    values = {}
    for name, value in params.items():
        text = str(value)
        if len(text) > PARAM_MAX:
            text = text[: PARAM_MAX - 1] + "…"
        values[name] = text
    return json.dumps(values, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def _error(status: int | None, payload: Any) -> SendError:
    """A SendError from the provider's answer: its Code and Message (scrubbed of
    numbers that could be a phone, and cut to fit last_error)."""
    code = message = ""
    if isinstance(payload, dict):
        code = str(payload.get("Code") or "")
        message = str(payload.get("Message") or "")
    text = "aliyun"
    if status is not None and status != 200:
        text += f" HTTP {status}"
    if code:
        text += f" {code}"
    if message:
        text += f": {scrub(message)}"
    return SendError(text[:200])


def _read_json(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None


@dataclass(frozen=True)
class AliyunSms:
    """The sender: `sender(delivery)` sends one sms or raises SendError."""

    access_key_id: str
    access_key_secret: str = field(repr=False)
    sign_name: str
    templates: Mapping[str, str]
    endpoint: str = DEFAULT_ENDPOINT
    region: str = DEFAULT_REGION
    timeout: float = 10.0
    # Seams for tests: the clock and the nonce of a request.
    timestamp: Callable[[], str] = _timestamp
    nonce: Callable[[], str] = _nonce

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> AliyunSms:
        """From SMS_ACCESS_KEY_ID, SMS_ACCESS_KEY_SECRET, SMS_SIGN_NAME (required),
        SMS_TEMPLATES, SMS_ENDPOINT, SMS_REGION, SMS_TIMEOUT. Raises
        SenderNotConfigured naming what is missing, before any message is claimed."""
        required = ("SMS_ACCESS_KEY_ID", "SMS_ACCESS_KEY_SECRET", "SMS_SIGN_NAME")
        missing = [name for name in required if not config.get(name)]
        if missing:
            raise SenderNotConfigured(f"SMS_PROVIDER=aliyun needs {', '.join(missing)}")
        templates = {template_key(k): v for k, v in (config.get("SMS_TEMPLATES") or {}).items()}
        endpoint = config.get("SMS_ENDPOINT") or DEFAULT_ENDPOINT
        if not endpoint.lower().startswith(("https://", "http://")):
            # urlopen would also open file: and custom schemes.
            raise SenderNotConfigured("SMS_ENDPOINT must be an https:// (or http://) address")
        return cls(
            access_key_id=config["SMS_ACCESS_KEY_ID"],
            access_key_secret=config["SMS_ACCESS_KEY_SECRET"],
            sign_name=config["SMS_SIGN_NAME"],
            templates=templates,
            endpoint=endpoint,
            region=config.get("SMS_REGION") or DEFAULT_REGION,
            timeout=float(config.get("SMS_TIMEOUT") or 10),
        )

    def template_for(self, kind: str | None) -> str:
        """The template code of `kind`; SendError naming the setting when there is
        none (the message is never sent as free text instead)."""
        if not kind:
            raise SendError("aliyun: the message has no kind, so no SMS template applies")
        code = self.templates.get(template_key(kind))
        if not code:
            setting = "SMS_TEMPLATE_" + template_key(kind).upper().replace("-", "_")
            raise SendError(f"aliyun: no SMS template for kind {kind} (set {setting})")
        return code

    def request_params(self, delivery: Delivery) -> tuple[dict[str, str], dict[str, str]]:
        """(query, body) of the SendSms request, unsigned."""
        query = {
            "AccessKeyId": self.access_key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "RegionId": self.region,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": self.nonce(),
            "SignatureVersion": "1.0",
            "Timestamp": self.timestamp(),
            "Version": API_VERSION,
        }
        body = {
            "PhoneNumbers": delivery.to or "",
            "SignName": self.sign_name,
            "TemplateCode": self.template_for(delivery.kind),
            # The outbox's idempotency key, echoed in the provider's receipts.
            "OutId": delivery.key,
        }
        param = template_param(delivery.params)
        if param is not None:
            body["TemplateParam"] = param
        return query, body

    def __call__(self, delivery: Delivery) -> None:
        if delivery.channel != "sms":
            raise SendError(f"aliyun: sends sms only, not {delivery.channel}")
        if not delivery.to:
            raise SendError("aliyun: the recipient has no phone number")
        query, body = self.request_params(delivery)
        query["Signature"] = sign(self.access_key_secret, METHOD, {**query, **body})
        url = self.endpoint.split("?", 1)[0] + "?" + canonical_query(query)
        request = Request(
            url,
            data=canonical_query(body).encode("ascii"),
            method=METHOD,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
        )
        try:
            # nosec B310: the endpoint's scheme is http(s), checked in from_config
            with urlopen(request, timeout=self.timeout) as response:  # nosec B310
                status, payload = response.status, _read_json(response.read())
        except HTTPError as exc:
            with exc:
                raise _error(exc.code, _read_json(exc.read())) from None
        except (OSError, HTTPException) as exc:  # refused, timed out, cut off
            reason = getattr(exc, "reason", exc)
            raise SendError(f"aliyun: unreachable ({type(reason).__name__})") from None
        if not isinstance(payload, dict) or payload.get("Code") != "OK":
            raise _error(status, payload if isinstance(payload, dict) else None)
        log.info(
            "outbox: message %d sent via aliyun to %s (template %s, BizId %s, RequestId %s)",
            delivery.id,
            mask_phone(delivery.to),
            body["TemplateCode"],
            payload.get("BizId", ""),
            payload.get("RequestId", ""),
        )
