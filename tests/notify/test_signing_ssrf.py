"""Our signer against the reference verifier, and the SSRF guard's address rules."""

from __future__ import annotations

import ipaddress
import json
import time

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from app.notify.signing import new_secret, sign, signed_headers
from app.notify.ssrf import UnsafeURL, address_allowed, check_url, resolve_url


def test_reference_library_verifies_our_signature_and_rejects_tampering():
    secret = new_secret()
    body = json.dumps({"type": "alert.created", "data": {"title": "صواريخ على قاعدة عين الأسد"}},
                      ensure_ascii=False).encode()
    headers = signed_headers([secret], "msg_abc", int(time.time()), body)
    assert secret.startswith("whsec_")
    assert Webhook(secret).verify(body, headers)["type"] == "alert.created"
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body + b" ", headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(body, headers)


def test_rotation_overlap_sends_two_signatures_each_verifiable():
    old, new = new_secret(), new_secret()
    body = b'{"ok":true}'
    headers = signed_headers([new, old], "msg_1", int(time.time()), body)
    assert headers["webhook-signature"].count("v1,") == 2
    Webhook(old).verify(body, headers)
    Webhook(new).verify(body, headers)


def test_signature_matches_the_spec_example():
    # The example from the Standard Webhooks specification.
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    assert sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body) == \
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


NO = [
    "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.100.100.200", "0.0.0.0",
    "::1", "fe80::1", "fd00:ec2::254", "::ffff:127.0.0.1", "64:ff9b::a00:1", "2002:7f00:1::1", "224.0.0.1",
    "100.64.0.1",
]


@pytest.mark.parametrize("addr", NO)
def test_internal_addresses_are_refused(addr):
    assert not address_allowed(ipaddress.ip_address(addr), [])


@pytest.mark.parametrize("addr", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c", "64:ff9b::5db8:d70e"])
def test_public_addresses_pass(addr):
    assert address_allowed(ipaddress.ip_address(addr), [])


def test_allow_list_opens_exactly_its_networks():
    allow = [ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("10.20.0.0/16")]
    assert address_allowed(ipaddress.ip_address("127.0.0.1"), allow)
    assert address_allowed(ipaddress.ip_address("10.20.3.4"), allow)
    assert not address_allowed(ipaddress.ip_address("10.21.0.1"), allow)
    assert not address_allowed(ipaddress.ip_address("::1"), allow)


@pytest.mark.parametrize("url,why", [
    ("ftp://example.com/x", "http"), ("http:///nohost", "no host"), ("https://user:pw@example.com/", "credentials"),
    ("http://127.0.0.1:8080/hook", "127.0.0.1"), ("http://[::1]/hook", "::1"), ("http://localhost/hook", "refused"),
    ("http://169.254.169.254/latest/meta-data/", "metadata"), ("http://example.com:99999/", "valid"),
    ("http://no-such-host.invalid/", "does not resolve"),
])
def test_registration_check_refuses_with_a_reason(url, why):
    with pytest.raises(UnsafeURL, match=why):
        check_url(url, [])


async def test_send_time_check_uses_the_same_rules_and_pins_the_address():
    with pytest.raises(UnsafeURL):
        await resolve_url("http://localhost:1/hook", [])
    target = await resolve_url("http://localhost:8080/hook?x=1", [ipaddress.ip_network("127.0.0.0/8"),
                                                                   ipaddress.ip_network("::1/128")])
    assert target.host == "localhost" and target.host_header() == "localhost:8080"
    assert target.pinned_url() in ("http://127.0.0.1:8080/hook?x=1", "http://[::1]:8080/hook?x=1")
