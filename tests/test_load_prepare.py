"""``manage.py load_prepare`` (``make load``): the load users log in through the real pages with
what it writes, the file is private and the output holds none of it, and a data set encrypted
with other keys is refused. The load client's TOTP (``loadtest/totp.py``) matches django-otp's."""

from __future__ import annotations

import importlib.util
import json
import stat
from io import StringIO
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from consentoffice.accounts.twofactor import confirmed_device
from consentoffice.devtools import load
from consentoffice.models import AuthenticatorDevice
from tests.factories import ContractFactory, MemberFactory

pytestmark = pytest.mark.django_db

LOADTEST = Path(__file__).resolve().parent.parent / "loadtest"


def _load_totp():
    spec = importlib.util.spec_from_file_location("load_totp", LOADTEST / "totp.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.totp


def test_the_load_users_log_in_with_what_the_file_holds_and_nothing_is_printed(client, tmp_path):
    for _ in range(3):
        ContractFactory(member=MemberFactory())
    out, target = StringIO(), tmp_path / "client.json"
    call_command("load_prepare", str(target), no_vacuum=True, stdout=out)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    data = json.loads(target.read_text(encoding="utf-8"))
    assert len(data["operators"]) == load.LOAD_OPERATORS and len(data["supervisors"]) == load.LOAD_SUPERVISORS
    assert {m["no"] for m in data["members"]} and data["audit_users"] is not None
    printed = out.getvalue()
    for account in data["operators"][:1] + data["supervisors"][:1]:
        assert account["password"] not in printed and account["username"] not in printed
    assert data["members"][0]["no"] not in printed

    operator = data["operators"][0]
    response = client.post(
        "/admin/login/", {"username": operator["username"], "password": operator["password"]}
    )
    assert response.status_code == 302 and client.get("/").status_code == 200

    supervisor = data["supervisors"][0]
    client.post("/admin/logout/")
    response = client.post(
        "/admin/login/", {"username": supervisor["username"], "password": supervisor["password"], "next": "/"}
    )
    assert response.status_code == 302
    assert client.get("/dashboard/")["Location"].startswith("/account/otp/")
    code = _load_totp()(supervisor["totp_key"])
    response = client.post("/account/otp/", {"otp_token": code, "next": "/dashboard/"})
    assert response.status_code == 302 and response["Location"] == "/dashboard/"
    assert client.get("/dashboard/").status_code == 200


def test_running_it_again_gives_new_passwords_and_devices(tmp_path):
    load.prepare(tmp_path / "a.json", vacuum=False)
    first = json.loads((tmp_path / "a.json").read_text(encoding="utf-8"))
    load.prepare(tmp_path / "b.json", vacuum=False)
    second = json.loads((tmp_path / "b.json").read_text(encoding="utf-8"))
    assert first["operators"][0]["password"] != second["operators"][0]["password"]
    assert first["supervisors"][0]["totp_key"] != second["supervisors"][0]["totp_key"]
    user = get_user_model().objects.get(username=second["supervisors"][0]["username"])
    assert confirmed_device(user).key == second["supervisors"][0]["totp_key"]
    assert AuthenticatorDevice.objects.filter(user=user).count() == 1


def test_the_client_totp_is_the_code_the_device_accepts(supervisor):
    device = confirmed_device(supervisor)
    totp = device.totp()
    assert _load_totp()(device.key, at=totp.time) == f"{totp.token():06d}"


def test_a_data_set_encrypted_with_other_keys_is_refused(tmp_path):
    contract = ContractFactory(member=MemberFactory())
    foreign = Fernet(Fernet.generate_key()).encrypt(b"bank 1234567").decode()
    with connection.cursor() as cursor:  # as stored by a seed that ran with other keys
        cursor.execute(
            "UPDATE members_contract SET settlement_account = %s WHERE id = %s", [foreign, contract.pk]
        )
    with pytest.raises(CommandError, match="FIELD_ENCRYPTION_KEYS"):
        call_command("load_prepare", str(tmp_path / "c.json"), no_vacuum=True, stdout=StringIO())
    assert not (tmp_path / "c.json").exists()
