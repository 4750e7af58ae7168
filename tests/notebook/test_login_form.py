"""The login form (real ipywidgets, driven from Python) and the terminal prompt."""

from __future__ import annotations

from p44_magic.demo import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
from p44_magic.notebook.login_form import LoginForm


def form_of(shell):
    return shell.magics_manager.registry["P44Magics"].login_form


def filled_form(shell, base_url: str, secret: str):
    """%p44_login --form, filled in for a custom URL as a user would (not yet submitted)."""
    shell.run_cell("%p44_login --form")
    form = form_of(shell)
    form.environment.value = "custom"
    form.base_url.value = base_url
    form.client_id.value = DEMO_CLIENT_ID
    form.secret.value = secret
    return form


def test_form_logs_in_clears_the_secret_and_shows_one_line(shell, demo):
    assert shell.run_cell("%p44_login --form").success
    form = form_of(shell)
    assert isinstance(form, LoginForm)
    assert form.base_url.layout.display == "none"
    form.environment.value = "custom"
    assert form.base_url.layout.display is None  # the URL box appears only for Custom
    form.base_url.value = demo.base_url
    form.client_id.value = DEMO_CLIENT_ID
    form.secret.value = DEMO_CLIENT_SECRET
    form.button.click()
    assert form.secret.value == ""
    assert "Logged in to" in form.status.value and DEMO_CLIENT_ID in form.status.value
    assert form.widget.children == (form.title, form.status)
    assert shell.magics_manager.registry["P44Magics"].client is not None
    assert shell.run_cell("%p44 GET /api/v4/webhooks").success


def test_form_failure_shows_the_servers_words_and_keeps_the_id(shell, demo):
    form = filled_form(shell, demo.base_url, "wrong-secret")
    form.submit()
    assert "confidential client is invalid" in form.status.value
    assert form.client_id.value == DEMO_CLIENT_ID and form.secret.value == ""
    assert not form.button.disabled
    assert "wrong-secret" not in form.status.value


def test_form_prefills_the_id_from_the_environment(shell, monkeypatch):
    monkeypatch.setenv("P44_CLIENT_ID", "from-env")
    monkeypatch.setenv("P44_ENV", "sandbox")
    shell.run_cell("%p44_login --form")
    form = form_of(shell)
    assert form.client_id.value == "from-env" and form.environment.value == "sandbox"
    assert form.secret.value == ""


def test_terminal_without_credentials_prompts(shell, demo, monkeypatch, capsys):
    # No TTY under pytest, so the two prompt functions are the one place we stand in for a user.
    monkeypatch.setattr("builtins.input", lambda prompt: DEMO_CLIENT_ID)
    monkeypatch.setattr("getpass.getpass", lambda prompt: DEMO_CLIENT_SECRET)
    assert shell.run_cell(f"%p44_login --base-url {demo.base_url}").success
    out = capsys.readouterr().out
    assert out.startswith(f"Logging in to {demo.base_url} (custom)…\n") and "Logged in" in out
    assert DEMO_CLIENT_SECRET not in out


def test_a_bare_login_says_where_the_credentials_go_before_asking(shell, monkeypatch, capsys):
    asked: list[str] = []

    def cancel(prompt: str) -> str:
        asked.append(prompt)
        raise KeyboardInterrupt  # Ctrl-C at the prompt

    monkeypatch.setattr("builtins.input", cancel)
    result = shell.run_cell("%p44_login")
    out = capsys.readouterr()
    assert out.out.startswith("Logging in to https://na12.api.project44.com (na)…\n")
    assert asked == ["Client ID: "]  # said before the first prompt
    assert not result.success
    lines = [line for line in (out.out + out.err).splitlines() if line.strip()]
    assert lines == [
        "Logging in to https://na12.api.project44.com (na)…",
        "UsageError: Login cancelled.",
    ]


def test_ctrl_c_or_end_of_input_at_the_secret_prompt_cancels_in_one_line(
    shell, monkeypatch, capsys
):
    monkeypatch.setattr("builtins.input", lambda prompt: "someone")
    for stop in (KeyboardInterrupt, EOFError):

        def cancel(prompt: str, stop=stop) -> str:
            raise stop

        monkeypatch.setattr("getpass.getpass", cancel)
        assert not shell.run_cell("%p44_login --env sandbox").success
        out = capsys.readouterr()
        assert "Logging in to https://na12.api.sandbox.p-44.com (sandbox)…" in out.out
        assert "Login cancelled." in out.err and "Traceback" not in out.out + out.err
        assert shell.magics_manager.registry["P44Magics"].client is None


def test_a_front_end_without_widgets_is_told_to_use_prompts(shell):
    from p44_magic.notebook.login_form import NO_WIDGETS_TEXT

    shell.run_cell("%p44_login --form")
    bundle = form_of(shell)._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/plain"] == NO_WIDGETS_TEXT and "%p44_login --prompt" in NO_WIDGETS_TEXT


def test_prompt_option_asks_even_where_widgets_show(shell, demo, monkeypatch, capsys):
    monkeypatch.setattr(
        type(shell.magics_manager.registry["P44Magics"]), "_shows_widgets", lambda self: True
    )
    monkeypatch.setattr("builtins.input", lambda prompt: DEMO_CLIENT_ID)
    monkeypatch.setattr("getpass.getpass", lambda prompt: DEMO_CLIENT_SECRET)
    assert shell.run_cell(f"%p44_login --prompt --base-url {demo.base_url}").success
    assert "Logged in" in capsys.readouterr().out


def widget_state_text() -> str:
    import json

    from ipywidgets import Widget

    return json.dumps(Widget.get_manager_state(drop_defaults=False))


def test_form_never_lets_an_exception_escape_and_recovers(shell, capsys):
    from tests.servers import Reply, ScriptedServer

    shell.run_cell("%xmode Verbose")
    try:
        shell.run_cell("%p44_login --form")
        form = form_of(shell)
        form.environment.value = "custom"
        form.client_id.value = "someone"
        form.base_url.value = "http://127.0.0.1:abc"
        form.secret.value = "typed-s3cret-value"
        form.submit()  # raised InvalidURL, with the secret in a frame, before
        assert "port that is not a number" in form.status.value
        assert not form.button.disabled and form.secret.value == ""
        with ScriptedServer(lambda got: Reply(200, "[" * 200_000)) as server:
            form.base_url.value = server.base_url
            form.secret.value = "typed-s3cret-value"
            form.submit()  # a RecursionError before
            assert "without an access_token" in form.status.value
            assert not form.button.disabled
        out = capsys.readouterr()
        assert "typed-s3cret-value" not in out.out + out.err + form.status.value
        assert "Traceback" not in out.out + out.err
    finally:
        shell.run_cell("%xmode Context")


def test_a_secret_typed_but_not_submitted_leaves_the_widget_state_when_the_form_closes(shell):
    shell.run_cell("%p44_login --form")
    form = form_of(shell)
    form.secret.value = "typed-but-never-sent"
    assert "typed-but-never-sent" in widget_state_text()  # an open form holds what was typed
    form.close()
    assert "typed-but-never-sent" not in widget_state_text()


def test_after_a_successful_form_login_no_input_widget_is_left_in_the_state(shell, demo):
    form = filled_form(shell, demo.base_url, DEMO_CLIENT_SECRET)
    ids = [form.secret.model_id, form.client_id.model_id, form.inputs.model_id]
    form.submit()
    assert "Logged in to" in form.status.value
    state = widget_state_text()
    assert DEMO_CLIENT_SECRET not in state
    assert not any(model_id in state for model_id in ids)  # the inputs left the state


def test_a_form_nobody_submits_expires_after_login_wait_and_drops_what_was_typed(shell):
    import time

    shell.run_cell("%config P44Magics.login_wait = 0.3")
    shell.run_cell("%p44_login --form")
    form = form_of(shell)
    form.secret.value = "typed-and-left-open"
    ids = [form.secret.model_id, form.client_id.model_id, form.inputs.model_id]
    deadline = time.monotonic() + 5
    while not form.done and time.monotonic() < deadline:
        time.sleep(0.05)
    assert form.done, "the form never expired"
    assert "nobody logged in within 0.3 s" in form.status.value
    assert "P44Magics.login_wait" in form.status.value
    assert form.widget.children == (form.title, form.status)
    state = widget_state_text()
    assert "typed-and-left-open" not in state
    assert not any(model_id in state for model_id in ids)
    form.submit()  # a click that arrives after the expiry does nothing
    assert shell.magics_manager.registry["P44Magics"].client is None


def test_a_new_form_or_a_logout_closes_the_form_still_open(shell):
    shell.run_cell("%p44_login --form")
    first = form_of(shell)
    first.secret.value = "typed-in-the-first-form"
    shell.run_cell("%p44_login --form")
    assert first.done and "typed-in-the-first-form" not in widget_state_text()
    second = form_of(shell)
    second.secret.value = "typed-in-the-second-form"
    shell.run_cell("%p44_logout")
    assert second.done and "typed-in-the-second-form" not in widget_state_text()


def test_the_form_has_a_title_an_auth_choice_and_hides_what_demo_does_not_need(shell):
    shell.run_cell("%p44_login --form")
    form = form_of(shell)
    assert "project44 login" in form.title.value and form.widget.children[0] is form.title
    assert [value for _, value in form.auth.options] == ["basic", "form"]
    form.environment.value = "demo"
    hidden = [box.layout.display for box in (form.client_id, form.secret, form.auth)]
    assert hidden == ["none", "none", "none"]
    form.environment.value = "sandbox"
    assert [box.layout.display for box in (form.client_id, form.secret, form.auth)] == [None] * 3


def test_demo_from_the_form_logs_in_without_id_or_secret(shell):
    shell.run_cell("%p44_login --form")
    form = form_of(shell)
    form.environment.value = "demo"
    form.submit()
    assert "Logged in to" in form.status.value and "(demo)" in form.status.value


def test_the_auth_choice_of_the_form_is_how_the_credentials_are_sent(shell):
    from tests.servers import ScriptedServer, with_tokens

    with ScriptedServer(with_tokens()) as server:
        form = filled_form(shell, server.base_url, "Sup3r-s3cret-Value-77")
        form.auth.value = "form"
        form.submit()
        assert "Logged in to" in form.status.value and "(form" in form.status.value
        token_request = server.token_calls()[0]
    assert "authorization" not in token_request.headers
    assert b"client_secret=" in token_request.body


def test_form_messages_speak_of_the_form_not_of_magic_options(shell):
    from tests.servers import Reply, ScriptedServer

    refuse = {"error": "invalid_client", "error_description": "bad client"}
    with ScriptedServer(lambda got: Reply(401, refuse)) as server:
        form = filled_form(shell, server.base_url, "wrong-secret-value")
        form.submit()
    status = form.status.value
    assert "--auth" not in status and "how they are sent" in status
    assert status.startswith("<div style=") and "line-height" in status  # compact lines
