"""People sign in as local users (bcrypt hashes, never plaintext) or through OIDC, whose groups claim becomes
their access groups (and who are remembered, so an admin can give them an API token). Admin rights come from
membership of an admin group, nothing else."""

from __future__ import annotations

import stat

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.users import UserStore, user_from_claims

ADMIN_GROUPS = ["kura-admins"]


def test_a_local_user_signs_in_with_the_right_password_only(tmp_path):
    users = UserStore(tmp_path / "users.json", ADMIN_GROUPS)
    users.add("mei", "correct horse", ("everyone", "support"))
    signed_in = users.authenticate("mei", "correct horse")
    assert signed_in.groups == ("everyone", "support") and not signed_in.admin
    assert users.authenticate("mei", "wrong horse") is None
    assert users.authenticate("nobody", "correct horse") is None


def test_the_users_file_holds_hashes_only_and_only_its_owner_reads_it(tmp_path):
    users = UserStore(tmp_path / "users.json", ADMIN_GROUPS)
    users.add("mei", "correct horse", ("everyone",))
    text = (tmp_path / "users.json").read_text()
    assert "correct horse" not in text and "$2b$" in text
    assert stat.S_IMODE((tmp_path / "users.json").stat().st_mode) == 0o600


def test_weak_passwords_and_odd_names_are_refused(tmp_path):
    users = UserStore(tmp_path / "users.json", ADMIN_GROUPS)
    with pytest.raises(ValueError, match="8 characters"):
        users.add("mei", "short", ())
    with pytest.raises(ValueError, match="user names"):
        users.add("../mei", "long enough", ())


def test_admins_are_members_of_an_admin_group(tmp_path):
    users = UserStore(tmp_path / "users.json", ADMIN_GROUPS)
    assert users.add("root", "long enough", ("everyone", "kura-admins")).admin
    assert users.remove("root") and users.authenticate("root", "long enough") is None


def test_oidc_claims_become_groups_and_language():
    claims = {"email": "aiko@aozora.example", "groups": ["/finance", "kura-admins"], "locale": "ja-JP"}
    user = user_from_claims(claims, "groups", ADMIN_GROUPS, ["everyone"])
    assert user.name == "aiko@aozora.example" and user.groups == ("finance", "kura-admins", "everyone")
    assert user.admin and user.language == "ja"
    bare = user_from_claims({"sub": "123"}, "groups", ADMIN_GROUPS, ["everyone"])
    assert bare.groups == ("everyone",) and not bare.admin


def test_an_oidc_user_is_remembered_at_sign_in_for_api_tokens_but_never_signs_in_by_password(tmp_path):
    from app.service import Caller, Kura
    from app.settings import Settings

    kura = Kura(Settings(home=tmp_path / "home"))
    aiko = user_from_claims({"email": "aiko@aozora.example", "groups": ["finance"]}, "groups", ADMIN_GROUPS, [])
    kura.signed_in_elsewhere(aiko, "oidc")
    token, _ = kura.create_token(Caller("root", (), admin=True), "aiko@aozora.example", "ide")
    assert kura.caller_for_token(token).groups == ("finance",), "the token carries the groups of the last sign-in"
    assert kura.sign_in("aiko@aozora.example", "") is None and kura.sign_in("aiko@aozora.example", "x" * 8) is None
    kura.signed_in_elsewhere(user_from_claims({"email": "aiko@aozora.example", "groups": ["hr"]}, "groups",
                                              ADMIN_GROUPS, []), "oidc")  # fmt: skip
    assert kura.caller_for_token(token).groups == ("hr",)


def test_the_cli_adds_users_without_the_password_on_the_command_line(tmp_path, monkeypatch):
    monkeypatch.setenv("KURA_HOME", str(tmp_path))
    result = CliRunner().invoke(
        cli, ["users", "add", "ken", "--groups", "sales", "--admin", "--password-stdin"], input="a long password\n"
    )
    assert result.exit_code == 0, result.output
    assert "groups sales, kura-admins (admin)" in result.output
    assert UserStore(tmp_path / "users.json", ADMIN_GROUPS).authenticate("ken", "a long password").admin
    listed = CliRunner().invoke(cli, ["users", "list"])
    assert listed.stdout.split() == ["ken"]
    refused = CliRunner().invoke(cli, ["users", "add", "ken", "--password-stdin"], input="short\n")
    assert refused.exit_code == 2 and "8 characters" in refused.output


def test_single_user_mode_refuses_to_serve_beyond_localhost(tmp_path, monkeypatch):
    monkeypatch.setenv("KURA_HOME", str(tmp_path))
    monkeypatch.setenv("KURA_SINGLE_USER", "1")
    result = CliRunner().invoke(cli, ["app", "--address", "0.0.0.0"])
    assert result.exit_code == 2 and "only serves on localhost" in result.output


def test_a_password_over_bcrypts_72_bytes_is_refused_at_creation_and_fails_sign_in_quietly(tmp_path):
    users = UserStore(tmp_path / "users.json", ["kura-admins"])
    with pytest.raises(ValueError, match="at most 72 bytes"):
        users.add("mei", "長" * 30, ("staff",))  # 90 bytes in UTF-8
    users.add("mei", "m" * 72, ("staff",))
    assert users.authenticate("mei", "m" * 72) is not None
    assert users.authenticate("mei", "m" * 73) is None, "no traceback, no silent truncation to the stored 72"
    assert users.authenticate("nobody", "x" * 500) is None
