"""Environment files of JetBrains' HTTP Client / httpyac and VS Code REST Client, read for
``%p44_login --env-file``, and the login itself against the demo."""

from __future__ import annotations

import json
import subprocess

import pytest

from p44_magic import P44UsageError
from p44_magic.demo import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
from p44_magic.env_files import read_env_login


def write(folder, public, private=None, mode=0o600):
    (folder / "http-client.env.json").write_text(json.dumps(public))
    if private is not None:
        path = folder / "http-client.private.env.json"
        path.write_text(json.dumps(private))
        path.chmod(mode)
    return folder / "http-client.env.json"


def auth(**fields):
    entry = {
        "Type": "OAuth2",
        "Grant Type": "Client Credentials",
        "Token URL": "https://na12.api.project44.com/api/v4/oauth2/token",
        "Client ID": "0oa-id",
        "Client Secret": "{{secret}}",
        "Client Credentials": "basic",
    }
    return {"Security": {"Auth": {"p44": {**entry, **fields}}}}


def test_the_environment_of_both_files_merged_private_winning(tmp_path):
    path = write(
        tmp_path,
        {"dev": {"region": "na", "team": "public", **auth()}, "prod": {}},
        {"dev": {"secret": "s3cret-from-private", "team": "private"}},
    )
    found = read_env_login(path, "dev")
    assert found.base_url == "https://na12.api.project44.com"
    assert (found.client_id, found.auth) == ("0oa-id", "basic")
    assert found.secret is not None and found.secret.reveal() == "s3cret-from-private"
    assert found.variables == {"region": "na", "team": "private"}  # the secret is no variable
    assert found.warnings == []
    assert read_env_login(tmp_path, "dev").client_id == "0oa-id"  # the folder works too


def test_in_body_is_form_and_the_auth_id_picks_one(tmp_path):
    two = {"Security": {"Auth": {**auth()["Security"]["Auth"], "other": {}}}}
    path = write(tmp_path, {"dev": two}, {"dev": {"secret": "x" * 10}})
    with pytest.raises(P44UsageError, match="several auth entries \\(p44, other\\)"):
        read_env_login(path, "dev")
    write(tmp_path, {"dev": auth(**{"Client Credentials": "in body"})}, {"dev": {"secret": "y"}})
    assert read_env_login(path, "dev", "p44").auth == "form"


def test_a_secret_in_the_public_file_is_refused(tmp_path):
    path = write(tmp_path, {"dev": auth(**{"Client Secret": "plain-secret-here"})})
    with pytest.raises(P44UsageError) as caught:
        read_env_login(path, "dev")
    assert "must not be in the public file" in str(caught.value)
    assert "http-client.private.env.json" in caught.value.hint
    assert "plain-secret-here" not in str(caught.value) + caught.value.hint


def test_an_exposed_private_file_is_warned_about(tmp_path):
    path = write(tmp_path, {"dev": auth()}, {"dev": {"secret": "z" * 9}}, mode=0o644)
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    warnings = read_env_login(path, "dev").warnings
    assert any("can be read by other users" in w for w in warnings)
    assert any("is not ignored by git" in w for w in warnings)
    (tmp_path / ".gitignore").write_text("http-client.private.env.json\n")
    (tmp_path / "http-client.private.env.json").chmod(0o600)
    assert read_env_login(path, "dev").warnings == []


def test_vs_code_settings_give_variables_with_shared_first(tmp_path):
    folder = tmp_path / ".vscode"
    folder.mkdir()
    (folder / "settings.json").write_text(
        '{\n  // REST Client\n  "rest-client.environmentVariables": {\n'
        '    "$shared": {"region": "na", "host": "https://x.invalid"},\n'
        '    "eu": {"region": "eu", /* the EU tenant */ "host": "https://eu.invalid/",},\n'
        "  },\n}\n"
    )
    found = read_env_login(tmp_path, "eu")
    assert found.variables == {"region": "eu", "host": "https://eu.invalid/"}
    assert found.base_url == "https://eu.invalid"
    with pytest.raises(P44UsageError, match="no rest-client environment 'na'; it has: eu"):
        read_env_login(folder / "settings.json", "na")


def test_not_an_environment_file(tmp_path):
    with pytest.raises(P44UsageError, match="No environment file at"):
        read_env_login(tmp_path / "missing.json", "dev")
    (tmp_path / "http-client.env.json").write_text("{not json")
    with pytest.raises(P44UsageError, match="is not valid JSON"):
        read_env_login(tmp_path, "dev")
    write(tmp_path, {"dev": auth(Type="Basic")})
    with pytest.raises(P44UsageError, match='logs in with "Type": "OAuth2"'):
        read_env_login(tmp_path, "dev")


def test_login_from_an_env_file_and_its_variables_in_cells(shell, demo, tmp_path, capsys):
    token_url = f"{demo.base_url}/api/v4/oauth2/token"
    fields = {"Token URL": token_url, "Client ID": DEMO_CLIENT_ID}
    write(
        tmp_path,
        {"dev": {"hooks": "webhooks", **auth(**fields)}},
        {"dev": {"secret": DEMO_CLIENT_SECRET}},
    )
    cell = f"%p44_login --env-file {tmp_path / 'http-client.env.json'} --env dev --name dev"
    assert shell.run_cell(cell).success
    assert capsys.readouterr().out.startswith(
        f"Logged in to {demo.base_url} as client {DEMO_CLIENT_ID} (basic auth)"
    )
    assert shell.run_cell("x = %p44 GET {{host}}/api/v4/{{hooks}}").success
    assert len(shell.user_ns["x"]) == 3
    refused = shell.run_cell("%p44_login --env moon")
    assert "argument --env: invalid choice: 'moon'" in str(refused.error_in_exec)


def test_a_secret_given_as_a_public_variable_is_refused(tmp_path):
    path = write(tmp_path, {"dev": {"secret": "in-the-public-file", **auth()}})
    with pytest.raises(P44UsageError, match="must not be in the public file"):
        read_env_login(path, "dev")


def test_the_folders_git_config_runs_nothing(tmp_path):
    path = write(tmp_path, {"dev": auth()}, {"dev": {"secret": "z" * 9}})
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    hook = f"touch {tmp_path / 'RAN'}; false"
    subprocess.run(["git", "config", "core.fsmonitor", hook], cwd=tmp_path, check=True)
    read_env_login(path, "dev")
    assert not (tmp_path / "RAN").exists()
