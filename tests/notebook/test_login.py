"""Running ``%p44_login`` again (issue 21, item 3): a login that changes nothing keeps the
session and its token and says so; ``--form`` still shows the form; other settings log in anew."""

from __future__ import annotations

from tests.servers import ScriptedServer, log_in, with_tokens


def magics_of(shell):
    return shell.magics_manager.registry["P44Magics"]


def test_a_login_that_changes_nothing_keeps_the_session(shell, demo, capsys):
    assert shell.run_cell("%p44_login --env demo").success
    client = magics_of(shell).client
    fetches = client.token_fetches
    for line in ("%p44_login", "%p44_login --env demo", "%p44_login --env demo --auth basic"):
        capsys.readouterr()
        assert shell.run_cell(line).success
        out = capsys.readouterr().out
        assert out.startswith(f"Already logged in to {client.base_url} as client demo-client")
        assert magics_of(shell).client is client and client.token_fetches == fetches
    assert magics_of(shell).login_form is None


def test_form_still_shows_the_form_and_other_settings_log_in_anew(shell, demo, capsys):
    assert shell.run_cell("%p44_login --env demo").success
    client = magics_of(shell).client
    assert shell.run_cell("%p44_login --form").success
    assert magics_of(shell).login_form is not None and magics_of(shell).client is client
    magics_of(shell).login_form.close()
    with ScriptedServer(with_tokens()) as server:
        assert log_in(shell, server.base_url).success
        assert magics_of(shell).client is not client and len(server.token_calls()) == 1
        assert "Logged in to" in capsys.readouterr().out
        capsys.readouterr()
        assert log_in(shell, server.base_url).success  # the same line again: kept
        assert "Already logged in" in capsys.readouterr().out
        assert len(server.token_calls()) == 1
        assert log_in(shell, server.base_url, secret="another-s3cret-value").success
        assert len(server.token_calls()) == 2  # another secret: a new login
    capsys.readouterr()
