"""Text messages as providers want them: outbox rows carry their kind and params,
the Aliyun SMS sender sends the kind's registered template with them, signed as
the provider documents, to a local server that checks every request
(tests/notifications/aliyun_server.py); the log sender stays the default."""

from __future__ import annotations

import json
import re
import socket
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from community.core.timeutil import utcnow
from community.hazards import services as hazards
from community.notifications import aliyun, outbox
from community.notifications.delivery import SenderNotConfigured, outbound_params
from community.notifications.models import OutboxMessage
from tests.factories.accounts import make_user
from tests.factories.notifications import make_notice, make_outbox
from tests.notifications import aliyun_server
from tests.notifications.aliyun_server import ACCESS_KEY_ID, ACCESS_KEY_SECRET, SIGN_NAME

PHONE = "13812345678"
TEMPLATES = {"test-notice": "SMS_100000001", hazards.ASSIGNED_NOTICE: "SMS_100000002"}


def _noop():
    pass


@pytest.fixture
def provider():
    with aliyun_server.FakeAliyun() as fake:
        yield fake


@pytest.fixture
def use_aliyun(app, monkeypatch, provider):
    settings = {
        "NOTIFY_SENDER": None,
        "SMS_PROVIDER": "aliyun",
        "SMS_ACCESS_KEY_ID": ACCESS_KEY_ID,
        "SMS_ACCESS_KEY_SECRET": ACCESS_KEY_SECRET,
        "SMS_SIGN_NAME": SIGN_NAME,
        "SMS_TEMPLATES": dict(TEMPLATES),
        "SMS_ENDPOINT": provider.endpoint,
        "SMS_TIMEOUT": 5,
    }
    for name, value in settings.items():
        monkeypatch.setitem(app.config, name, value)
    return settings


def _queued(session, *, kind="test-notice", phone=PHONE, **params):
    """One notice queued into the outbox the way send-reminders does it."""
    user = make_user(session, phone=phone)
    make_notice(session, user=user, kind=kind, **(params or {"site": "东村"}))
    now = utcnow()
    assert outbox.queue_notices(session, now) == 1
    row = session.scalars(select(OutboxMessage).where(OutboxMessage.user_id == user.id)).one()
    return row, now


# --- the signature --------------------------------------------------------------


def test_the_published_signature_examples_are_reproduced():
    # Aliyun's documented example for RPC APIs (ECS DescribeRegions, secret testsecret).
    ecs = {
        "AccessKeyId": "testid",
        "Action": "DescribeRegions",
        "Format": "XML",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
        "SignatureVersion": "1.0",
        "Timestamp": "2016-02-23T12:46:24Z",
        "Version": "2014-05-26",
    }
    assert aliyun.string_to_sign("GET", ecs) == (
        "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML"
        "%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"
        "%26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z"
        "%26Version%3D2014-05-26"
    )
    assert aliyun.sign("testsecret", "GET", ecs) == "OLeaidS1JvxuMvnyHOwuJ+uX5qY="
    # The SMS document's SendSms example (a Chinese signature name, secret testSecret).
    sms = {
        "AccessKeyId": "testId",
        "Action": "SendSms",
        "Format": "XML",
        "OutId": "123",
        "PhoneNumbers": "15300000001",
        "RegionId": "cn-hangzhou",
        "SignName": "阿里云短信测试专用",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
        "SignatureVersion": "1.0",
        "TemplateCode": "SMS_71390007",
        "TemplateParam": '{"customer":"test"}',
        "Timestamp": "2017-07-12T02:42:19Z",
        "Version": "2017-05-25",
    }
    assert aliyun.sign("testSecret", "GET", sms) == "zJDF+Lrzhj/ThnlvIToysFRq6t4="


def test_percent_encoding_keeps_only_the_unreserved_characters():
    assert aliyun.percent_encode("a b*~-_.") == "a%20b%2A~-_."
    assert aliyun.percent_encode("/=&+派") == "%2F%3D%26%2B%E6%B4%BE"


# --- sending --------------------------------------------------------------------


def test_a_message_goes_out_as_the_documented_signed_request(session, use_aliyun, provider, caplog):
    row, now = _queued(session, site="东村 A座")
    with caplog.at_level("INFO", logger="community"):
        assert outbox.deliver_due(session, now, commit=_noop) == (1, 0)
    (request,) = provider.requests
    assert request["answer"]["Code"] == "OK", request["answer"]
    assert request["method"] == "POST" and request["path"] == "/"
    assert request["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    query, body = request["query"], request["body"]
    assert set(query) == {
        "AccessKeyId",
        "Action",
        "Format",
        "RegionId",
        "SignatureMethod",
        "SignatureNonce",
        "SignatureVersion",
        "Timestamp",
        "Version",
        "Signature",
    }
    assert query["AccessKeyId"] == ACCESS_KEY_ID and query["Action"] == "SendSms"
    assert query["Version"] == "2017-05-25" and query["Format"] == "JSON"
    assert query["RegionId"] == "cn-hangzhou"
    assert query["SignatureMethod"] == "HMAC-SHA1" and query["SignatureVersion"] == "1.0"
    uuid.UUID(query["SignatureNonce"])
    stamp = datetime.strptime(query["Timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert abs(datetime.now(UTC) - stamp) < timedelta(minutes=1)
    # The phone travels in the body, not in the URL.
    assert PHONE not in request["raw_query"]
    assert body == {
        "PhoneNumbers": PHONE,
        "SignName": SIGN_NAME,
        "TemplateCode": "SMS_100000001",
        "TemplateParam": body["TemplateParam"],
        "OutId": f"notice:{row.notification_id}",
    }
    assert json.loads(body["TemplateParam"]) == {"site": "东村 A座"}
    # Spaces are %20 (never +) and the Chinese text is UTF-8, as the signature needs.
    assert "%20" in request["raw_body"] and "+" not in request["raw_body"]
    signed = {k: v for k, v in {**query, **body}.items() if k != "Signature"}
    assert query["Signature"] == aliyun_server.documented_signature(
        ACCESS_KEY_SECRET, "POST", signed
    )
    session.refresh(row)
    assert row.sent_at == now and row.last_error is None and row.attempts == 1
    # The log names the message and the masked phone, never the phone or the secret.
    assert f"message {row.id} sent via aliyun to 138****5678" in caplog.text
    assert PHONE not in caplog.text and ACCESS_KEY_SECRET not in caplog.text
    assert query["Signature"] not in caplog.text


def test_each_request_has_its_own_nonce(session, use_aliyun, provider):
    for phone in ("13812345678", "13912345678"):
        make_notice(session, user=make_user(session, phone=phone))
    now = utcnow()
    assert outbox.queue_notices(session, now) == 2
    assert outbox.deliver_due(session, now, commit=_noop) == (2, 0)
    nonces = {r["query"]["SignatureNonce"] for r in provider.requests}
    assert len(nonces) == 2
    assert all(r["answer"]["Code"] == "OK" for r in provider.requests)


def test_a_digest_is_sent_with_its_count(session, use_aliyun, provider, app, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_TEMPLATES", {**TEMPLATES, "digest": "SMS_100000009"})
    user = make_user(session, phone=PHONE)
    user.notify_digest = True
    now = datetime.combine(utcnow().date(), datetime.min.time()) + timedelta(hours=1)
    for _ in range(3):
        notice = make_notice(session, user=user)
        notice.created_at = now - timedelta(hours=3)
    session.flush()
    assert outbox.queue_digests(session, now) == 1
    row = session.scalars(select(OutboxMessage).where(OutboxMessage.user_id == user.id)).one()
    assert row.kind == "digest" and row.params == {"count": 3}
    assert outbox.deliver_due(session, now, commit=_noop) == (1, 0)
    (request,) = provider.requests
    assert request["body"]["TemplateCode"] == "SMS_100000009"
    assert json.loads(request["body"]["TemplateParam"]) == {"count": "3"}


def test_a_provider_error_keeps_the_message_queued_with_its_code(session, use_aliyun, provider):
    row, now = _queued(session)
    provider.reply = (200, {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发天级流控"})
    assert outbox.deliver_due(session, now, commit=_noop) == (0, 1)
    session.refresh(row)
    assert row.sent_at is None and row.attempts == 1
    assert row.last_error == "aliyun isv.BUSINESS_LIMIT_CONTROL: 触发天级流控"
    assert row.next_attempt_at == now + outbox.backoff(1)
    # Retried when due, and sent once the provider accepts it.
    provider.reply = None
    later = now + outbox.backoff(1)
    assert outbox.deliver_due(session, later, commit=_noop) == (1, 0)
    session.refresh(row)
    assert row.sent_at == later and row.last_error is None and row.attempts == 2
    assert len(provider.requests) == 2


def test_a_wrong_secret_is_refused_and_recorded(session, use_aliyun, provider, app, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_ACCESS_KEY_SECRET", "not-the-secret")
    row, now = _queued(session)
    assert outbox.deliver_due(session, now, commit=_noop) == (0, 1)
    session.refresh(row)
    assert row.sent_at is None
    assert row.last_error.startswith("aliyun HTTP 400 SignatureDoesNotMatch")
    assert "not-the-secret" not in row.last_error


def test_an_http_error_without_json_is_recorded_by_status(session, use_aliyun, provider):
    row, now = _queued(session)
    provider.reply = (503, "busy")  # the server sends a JSON string, not an object
    assert outbox.deliver_due(session, now, commit=_noop) == (0, 1)
    session.refresh(row)
    assert row.last_error == "aliyun HTTP 503"


def test_an_unreachable_provider_keeps_the_message(session, use_aliyun, app, monkeypatch):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setitem(app.config, "SMS_ENDPOINT", f"http://127.0.0.1:{port}/")
    row, now = _queued(session)
    assert outbox.deliver_due(session, now, commit=_noop) == (0, 1)
    session.refresh(row)
    assert row.sent_at is None
    assert row.last_error == "aliyun: unreachable (ConnectionRefusedError)"


def test_a_kind_without_a_template_is_reported_and_not_sent(session, use_aliyun, provider, caplog):
    row, now = _queued(session, kind=hazards.REOPENED_NOTICE)
    with caplog.at_level("WARNING", logger="community"):
        assert outbox.deliver_due(session, now, commit=_noop) == (0, 1)
    assert provider.requests == []  # never sent as free text instead
    session.refresh(row)
    expected = "aliyun: no SMS template for kind hazard-reopened (set SMS_TEMPLATE_HAZARD_REOPENED)"
    assert row.sent_at is None and row.last_error == expected
    assert expected in caplog.text


def test_a_message_without_a_kind_is_reported_and_not_sent(session, use_aliyun, provider):
    row = make_outbox(session, user=make_user(session, phone=PHONE), when=utcnow())
    assert outbox.deliver_due(session, utcnow(), commit=_noop) == (0, 1)
    assert provider.requests == []
    session.refresh(row)
    assert row.last_error == "aliyun: the message has no kind, so no SMS template applies"


def test_templates_are_found_by_the_setting_spelling_too(app_ctx, app, use_aliyun, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_TEMPLATES", {"HAZARD_REOPENED": "SMS_7"})
    sender = outbox.load_sender()
    assert sender.template_for(hazards.REOPENED_NOTICE) == "SMS_7"


def test_long_values_are_cut_to_the_providers_limit():
    param = json.loads(aliyun.template_param({"title": "长" * 50, "days": 8}))
    assert param == {"title": "长" * (aliyun.PARAM_MAX - 1) + "…", "days": "8"}


# --- configuration ----------------------------------------------------------------


def test_the_log_sender_stays_the_default(app, session, caplog):
    assert app.config["SMS_PROVIDER"] == "log" and not app.config["NOTIFY_SENDER"]
    assert outbox.load_sender() is outbox.log_sender
    row, now = _queued(session)
    with caplog.at_level("INFO", logger="community"):
        assert outbox.deliver_due(session, now, commit=_noop) == (1, 0)
    assert f"outbox: message {row.id} to user {row.user_id} via sms" in caplog.text
    assert PHONE not in caplog.text and "东村" not in caplog.text


def test_notify_sender_still_replaces_the_provider(app_ctx, app, use_aliyun, monkeypatch):
    monkeypatch.setitem(app.config, "NOTIFY_SENDER", "community.notifications.outbox.log_sender")
    assert outbox.load_sender() is outbox.log_sender


@pytest.mark.parametrize("missing", ["SMS_ACCESS_KEY_ID", "SMS_ACCESS_KEY_SECRET", "SMS_SIGN_NAME"])
def test_a_missing_setting_stops_before_any_message_is_claimed(
    session, app, use_aliyun, monkeypatch, missing
):
    monkeypatch.setitem(app.config, missing, None)
    row, now = _queued(session)
    with pytest.raises(SenderNotConfigured, match=missing):
        outbox.deliver_due(session, now, commit=_noop)
    session.refresh(row)
    assert row.attempts == 0


@pytest.mark.parametrize("endpoint", ["file:///etc/passwd", "ftp://sms.example/", "gopher://x"])
def test_an_endpoint_that_is_not_http_is_refused_before_anything_is_sent(
    session, app, use_aliyun, monkeypatch, endpoint
):
    monkeypatch.setitem(app.config, "SMS_ENDPOINT", endpoint)
    row, now = _queued(session)
    with pytest.raises(SenderNotConfigured, match="SMS_ENDPOINT"):
        outbox.deliver_due(session, now, commit=_noop)
    session.refresh(row)
    assert row.attempts == 0


def test_an_unknown_provider_is_refused(app_ctx, app, monkeypatch):
    monkeypatch.setitem(app.config, "NOTIFY_SENDER", None)
    monkeypatch.setitem(app.config, "SMS_PROVIDER", "carrier-pigeon")
    with pytest.raises(SenderNotConfigured, match="SMS_PROVIDER must be one of log, aliyun"):
        outbox.load_sender()


def test_template_settings_are_read_from_the_environment(monkeypatch):
    from community.config import _sms_templates

    monkeypatch.setenv("SMS_TEMPLATES", '{"hazard-assigned": "SMS_1", "duty_reminder": "SMS_2"}')
    monkeypatch.setenv("SMS_TEMPLATE_HAZARD_ASSIGNED", "SMS_3")
    monkeypatch.setenv("SMS_TEMPLATE_DIGEST", "SMS_4")
    assert _sms_templates() == {
        "hazard-assigned": "SMS_3",
        "duty-reminder": "SMS_2",
        "digest": "SMS_4",
    }
    monkeypatch.setenv("SMS_TEMPLATES", "[1, 2]")
    with pytest.raises(RuntimeError, match="SMS_TEMPLATES"):
        _sms_templates()


# --- what a message may carry -------------------------------------------------------


def test_params_never_carry_id_or_phone_numbers(session):
    reason = "住户 11010519491231002X 电话 13912345678 未登记"
    row, _ = _queued(session, kind="test-notice", site=reason)
    assert row.kind == "test-notice"
    assert row.params == {"site": "住户 110105********002X 电话 139****5678 未登记"}
    assert "11010519491231002X" not in row.body and "13912345678" not in row.body
    # Numbers stay numbers; digits inside longer text (a room, a year) stay.
    assert outbound_params({"days": 8, "room": "A座101", "year": "2026年"}) == {
        "days": 8,
        "room": "A座101",
        "year": "2026年",
    }
    assert outbound_params({}) is None and outbound_params(None) is None


def test_a_failure_text_never_quotes_a_phone(session, use_aliyun, provider):
    row, now = _queued(session)
    provider.reply = (200, {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": f"号码 {PHONE} 非法"})
    assert outbox.deliver_due(session, now, commit=_noop) == (0, 1)
    session.refresh(row)
    assert PHONE not in row.last_error and re.search(r"138\*+5678", row.last_error)


def test_send_outbox_sends_through_the_configured_provider(app, session, use_aliyun, provider):
    row, _ = _queued(session)
    session.commit()
    result = app.test_cli_runner().invoke(args=["send-outbox"])
    assert result.exit_code == 0, result.output
    assert "1 sent, 0 failed" in result.output
    assert [r["answer"]["Code"] for r in provider.requests] == ["OK"]
    session.refresh(row)
    assert row.sent_at is not None and row.last_error is None


@pytest.mark.parametrize("command", ["send-outbox", "send-reminders"])
def test_the_commands_name_a_missing_setting_without_a_traceback(
    app, session, use_aliyun, monkeypatch, command
):
    monkeypatch.setitem(app.config, "SMS_SIGN_NAME", None)
    row, _ = _queued(session)
    session.commit()
    result = app.test_cli_runner().invoke(args=[command])
    assert result.exit_code == 1
    assert "SMS_PROVIDER=aliyun needs SMS_SIGN_NAME" in result.output
    assert "Traceback" not in result.output and ACCESS_KEY_SECRET not in result.output
    session.refresh(row)
    assert row.attempts == 0
