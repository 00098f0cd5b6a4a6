"""A stand-in for Aliyun SMS on 127.0.0.1: an HTTP server thread that checks each
SendSms request the way the provider documents it, with its own code (nothing is
imported from community.notifications.aliyun), and answers like the provider.

Checks, in the provider's order, each failure answered with its documented code:
every common parameter present with its fixed value (Action, Version, Format,
SignatureMethod, SignatureVersion) -> MissingParameter / InvalidParameter (400);
AccessKeyId known -> InvalidAccessKeyId.NotFound (404); Timestamp in UTC ISO 8601
and within 15 minutes -> InvalidTimeStamp.Format / .Expired (400); SignatureNonce
not seen before -> SignatureNonceUsed (400); Signature recomputed from the query
and form body with the test secret -> SignatureDoesNotMatch (400); SendSms's
PhoneNumbers, SignName, TemplateCode present, TemplateParam a JSON object of
strings -> isv.* codes (200). `reply` overrides the answer of a request that passed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote_plus, urlsplit

ACCESS_KEY_ID = "test-access-key-id"
ACCESS_KEY_SECRET = "test-access-key-secret"
SIGN_NAME = "共治社区"
COMMON = {
    "Action": "SendSms",
    "Version": "2017-05-25",
    "Format": "JSON",
    "SignatureMethod": "HMAC-SHA1",
    "SignatureVersion": "1.0",
}
REQUIRED = ("AccessKeyId", "RegionId", "SignatureNonce", "Timestamp", "Signature", *COMMON)


def documented_encode(value: str) -> str:
    """The encoding the provider's document gives: form-encode, then + -> %20,
    * -> %2A, %7E -> ~."""
    return (
        quote_plus(value, encoding="utf-8")
        .replace("+", "%20")
        .replace("*", "%2A")
        .replace("%7E", "~")
    )


def documented_signature(secret: str, method: str, params: dict[str, str]) -> str:
    canonical = "&".join(
        f"{documented_encode(k)}={documented_encode(v)}" for k, v in sorted(params.items())
    )
    to_sign = f"{method}&{documented_encode('/')}&{documented_encode(canonical)}"
    mac = hmac.new((secret + "&").encode("utf-8"), to_sign.encode("utf-8"), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode("ascii")


class FakeAliyun:
    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.nonces: set[str] = set()
        self.reply: tuple[int, dict] | None = None
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/"

    def __enter__(self) -> FakeAliyun:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def check(self, method: str, path: str, headers, query: dict, body: dict) -> tuple[int, dict]:
        """The provider's answer to one request (see the module doc)."""

        def refuse(status: int, code: str, message: str) -> tuple[int, dict]:
            return status, {"Code": code, "Message": message, "RequestId": "fake-request"}

        if method != "POST" or path != "/":
            return refuse(404, "InvalidAction.NotFound", f"{method} {path}")
        if body and headers.get("Content-Type") != "application/x-www-form-urlencoded":
            return refuse(400, "InvalidParameter", "Content-Type")
        params = {**query, **body}
        for name in REQUIRED:
            if not params.get(name):
                return refuse(400, "MissingParameter", f"{name} is mandatory for this action.")
        for name, value in COMMON.items():
            if params[name] != value:
                return refuse(400, "InvalidParameter", f"{name} {params[name]!r}")
        if params["AccessKeyId"] != ACCESS_KEY_ID:
            return refuse(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
        try:
            stamp = datetime.strptime(params["Timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        except ValueError:
            return refuse(400, "InvalidTimeStamp.Format", "Specified time stamp is not valid.")
        if abs(datetime.now(UTC) - stamp) > timedelta(minutes=15):
            return refuse(400, "InvalidTimeStamp.Expired", "Specified time stamp is expired.")
        if params["SignatureNonce"] in self.nonces:
            return refuse(400, "SignatureNonceUsed", "Specified signature nonce was used already.")
        self.nonces.add(params["SignatureNonce"])
        signed = {k: v for k, v in params.items() if k != "Signature"}
        if params["Signature"] != documented_signature(ACCESS_KEY_SECRET, method, signed):
            return refuse(400, "SignatureDoesNotMatch", "Specified signature is not matched.")
        for name in ("PhoneNumbers", "SignName", "TemplateCode"):
            if not params.get(name):
                return refuse(400, "MissingParameter", f"{name} is mandatory for this action.")
        if not re.fullmatch(r"1[3-9]\d{9}", params["PhoneNumbers"]):
            return refuse(200, "isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
        if params["SignName"] != SIGN_NAME:
            return refuse(200, "isv.SMS_SIGNATURE_ILLEGAL", "该账号下找不到对应签名")
        if "TemplateParam" in params:
            try:
                values = json.loads(params["TemplateParam"])
            except ValueError:
                return refuse(200, "isv.INVALID_JSON_PARAM", "JSON参数不合法")
            if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
                return refuse(200, "isv.INVALID_JSON_PARAM", "JSON参数不合法，只接受字符串值")
        if self.reply is not None:
            return self.reply
        return 200, {
            "Code": "OK",
            "Message": "OK",
            "BizId": "900619746936498440^0",
            "RequestId": "F655A8D5-B967-440B-8683-DAD6FF8DE990",
        }

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep the test output quiet
                return

            def _answer(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("ascii") if length else ""
                query = dict(parse_qsl(parts.query, keep_blank_values=True))
                body = dict(parse_qsl(raw, keep_blank_values=True))
                status, answer = fake.check(self.command, parts.path, self.headers, query, body)
                fake.requests.append(
                    {
                        "method": self.command,
                        "path": parts.path,
                        "headers": dict(self.headers),
                        "query": query,
                        "body": body,
                        "raw_query": parts.query,
                        "raw_body": raw,
                        "answer": answer,
                    }
                )
                data = json.dumps(answer, ensure_ascii=False).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json;charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _answer

        return Handler
