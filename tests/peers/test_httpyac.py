"""The same .http files in httpyac and in p44_magic (issue 24, item 5): a file p44_magic exported
runs in httpyac and gets the same answers, and a file written in httpyac's style runs through
%p44_run sending the same requests httpyac sends. Every server is a demo API on 127.0.0.1."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from p44_magic import P44Client
from p44_magic.demo import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DemoServer
from tests.servers import log_in

STYLE_FILE = """\
@v4 = /api/v4
@search = {{v4}}/inventory/orders/search
@pageSize = 50

### In-transit orders
# @name orders
POST {{host}}{{search}}?page=1&pageSize={{pageSize}}
Content-Type: application/json
Authorization: Bearer {{$auth.token("p44")}}

< ./filter.json

### Accounts
// @name accounts
GET {{host}}{{v4}}/capacityprovideraccounts
Authorization: Bearer {{$auth.token("p44")}}
X-Team: {{$dotenv TEAM}}
X-Run: {{$processEnv P44_RUN_ID}}

### Webhooks
GET {{host}}{{v4}}/webhooks?active=true
Authorization: Bearer {{$auth.token("p44")}}
"""


def env_files(folder: Path, env: str, base_url: str) -> None:
    """The env files a team keeps: host and the auth entry public, the secret private."""
    auth = {
        "Type": "OAuth2",
        "Grant Type": "Client Credentials",
        "Token URL": f"{base_url}/api/v4/oauth2/token",
        "Client ID": DEMO_CLIENT_ID,
        "Client Secret": "{{p44_client_secret}}",
        "Client Credentials": "basic",
    }
    public = {env: {"host": base_url, "Security": {"Auth": {"p44": auth}}}}
    (folder / "http-client.env.json").write_text(json.dumps(public))
    private = folder / "http-client.private.env.json"
    private.write_text(json.dumps({env: {"p44_client_secret": DEMO_CLIENT_SECRET}}))
    private.chmod(0o600)


def httpyac_send(httpyac: Path, folder: Path, file: str, env: str) -> list[dict]:
    done = subprocess.run(
        [str(httpyac), "send", file, "--all", "--env", env, "--json"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "P44_RUN_ID": "run-7", "NO_COLOR": "1"},
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return json.loads(done.stdout)["requests"]


def data_requests(demo: DemoServer) -> list[tuple]:
    """What reached the API but the token requests: method, path, body and own headers."""
    return [
        (r.method, r.path, r.body.strip(), {k: v for k, v in r.headers.items() if k[:2] == "x-"})
        for r in demo.requests
        if not r.path.startswith("/api/v4/oauth2/token")
    ]


def test_a_file_in_httpyac_style_sends_the_same_requests_through_p44_run(
    httpyac, shell, tmp_path, monkeypatch
):
    (tmp_path / "style.http").write_text(STYLE_FILE)
    (tmp_path / "filter.json").write_text('{"statusCodes": ["IN_TRANSIT"]}')
    (tmp_path / ".env").write_text("TEAM=analytics\n")
    (tmp_path / ".gitignore").write_text("http-client.private.env.json\n")
    monkeypatch.setenv("P44_RUN_ID", "run-7")
    with DemoServer() as theirs:
        env_files(tmp_path, "demo", theirs.base_url)
        answered = httpyac_send(httpyac, tmp_path, "style.http", "demo")
        sent_by_httpyac = data_requests(theirs)
    assert [r["response"]["statusCode"] for r in answered] == [200, 200, 200]
    with DemoServer() as ours:
        env_files(tmp_path, "demo", ours.base_url)
        login = f"%p44_login --env-file {tmp_path / 'http-client.env.json'} --env demo"
        assert shell.run_cell(login).success
        assert shell.run_cell(f"%p44_run {tmp_path / 'style.http'}").success
        sent_by_us = data_requests(ours)
    assert sent_by_us == sent_by_httpyac
    assert len(shell.user_ns["orders"]) == 50 and len(shell.user_ns["accounts"]) == 12


def test_an_exported_file_runs_in_httpyac_with_the_same_answers(httpyac, shell, tmp_path):
    (tmp_path / "cells.http").write_text(
        STYLE_FILE.replace("< ./filter.json", '{"statusCodes": ["DELIVERED"]}')
    )
    (tmp_path / ".env").write_text("TEAM=analytics\n")
    os.environ["P44_RUN_ID"] = "run-7"
    try:
        with DemoServer() as first:
            assert log_in(shell, first.base_url, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET).success
            assert shell.run_cell(f"%p44_run {tmp_path / 'cells.http'}").success
            out = tmp_path / "out"
            out.mkdir()
            assert shell.run_cell(f"%p44_export {out / 'exported.http'} --with-env").success
    finally:
        del os.environ["P44_RUN_ID"]
    exported = (out / "exported.http").read_text()
    assert "{{host}}" in exported and '{{$auth.token("p44")}}' in exported
    assert DEMO_CLIENT_SECRET not in exported + (out / "http-client.env.json").read_text()
    with DemoServer() as theirs:
        env = json.loads((out / "http-client.env.json").read_text())
        (name,) = env
        env_files(out, name, theirs.base_url)  # the team's private file beside it
        answered = httpyac_send(httpyac, out, "exported.http", name)
    theirs_bodies = [json.loads(r["response"]["body"]) for r in answered]
    with (
        DemoServer() as again,
        P44Client(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, base_url=again.base_url) as p44,
    ):
        ours = [
            p44.answer(
                "POST",
                "/api/v4/inventory/orders/search?page=1&pageSize=50",
                json={"statusCodes": ["DELIVERED"]},
            ),
            p44.answer("GET", "/api/v4/capacityprovideraccounts"),
            p44.answer("GET", "/api/v4/webhooks?active=true"),
        ]
    assert theirs_bodies == ours
