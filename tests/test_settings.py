"""%config values and P44Client arguments are checked where they are declared: a short message,
the old value kept, never a traceback at the next login."""

from __future__ import annotations

import logging

import pytest

from p44_magic import P44Client, P44UsageError

BAD_SETTINGS = [
    ("timeout", "-1", "P44Magics.timeout = -1.0: it must be more than 0 seconds."),
    ("timeout", "0", "P44Magics.timeout = 0.0: it must be more than 0 seconds."),
    ("retries", "-1", "P44Magics.retries = -1: it must be 0 or more."),
    ("max_retry_after", "-1", "P44Magics.max_retry_after = -1.0: it must be 0 or more seconds."),
    ("max_concurrency", "0", "P44Magics.max_concurrency = 0: it must be 1 or more."),
    ("max_concurrency", "65", "P44Magics.max_concurrency = 65: it must be 64 or less."),
    ("max_pages", "0", "P44Magics.max_pages = 0: it must be 1 or more."),
    ("max_rate", "-1", "P44Magics.max_rate = -1.0: it must be 0 or more per second."),
    ("max_each", "0", "P44Magics.max_each = 0: it must be 1 or more."),
    ("login_wait", "0", "P44Magics.login_wait = 0.0: it must be more than 0 seconds."),
    ("env", "'mars'", "P44Magics.env = 'mars': unknown environment."),
    ("auth", "'both'", "P44Magics.auth = 'both': unknown auth style."),
    ("base_url", "'ftp://example.com'", "P44Magics.base_url: Base URL 'ftp://example.com' is not"),
    ("base_url", "'http://example.com'", "P44Magics.base_url: Refusing plain http://"),
]


def magics_of(shell):
    return shell.magics_manager.registry["P44Magics"]


@pytest.mark.parametrize(("name", "value", "message"), BAD_SETTINGS)
def test_a_bad_config_value_is_a_short_error_and_the_old_value_stays(
    shell, caplog, capsys, name, value, message
):
    before = getattr(magics_of(shell), name)
    with caplog.at_level(logging.ERROR):
        result = shell.run_cell(f"%config P44Magics.{name} = {value}")
    captured = capsys.readouterr()
    shown = caplog.text + captured.out + captured.err
    assert message in shown
    assert "Traceback" not in shown and not result.success  # the cell fails (issue 21)
    assert getattr(magics_of(shell), name) == before


def test_login_after_a_refused_timeout_works_with_the_old_value(shell, caplog, capsys):
    with caplog.at_level(logging.ERROR):
        shell.run_cell("%config P44Magics.timeout = -1")
    result = shell.run_cell("%p44_login --env demo")
    assert result.success, result.error_in_exec
    assert "Logged in to" in capsys.readouterr().out
    assert magics_of(shell).client.timeout == 30.0


def test_good_values_are_taken_and_normalised(shell):
    magics = magics_of(shell)
    shell.run_cell("%config P44Magics.env = 'EU'")
    shell.run_cell("%config P44Magics.base_url = 'http://127.0.0.1:9/'")
    shell.run_cell("%config P44Magics.max_retry_after = 0")
    assert (magics.env, magics.base_url, magics.max_retry_after) == (
        "eu",
        "http://127.0.0.1:9",
        0.0,
    )


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        ({"timeout": -1}, "timeout = -1: it must be more than 0 seconds."),
        ({"timeout": float("nan")}, "timeout = nan"),
        ({"retries": -2}, "retries = -2: it must be 0 or more."),
        ({"retries": 1.5}, "retries = 1.5: it must be a whole number."),
        ({"max_retry_after": -1}, "max_retry_after = -1"),
        ({"max_concurrency": 0}, "max_concurrency = 0: it must be 1 or more."),
        ({"max_pages": 0}, "max_pages = 0: it must be 1 or more."),
        ({"backoff": -0.1}, "backoff = -0.1"),
        ({"env": "mars", "base_url": None}, "env = 'mars': unknown environment."),
        ({"auth": "both"}, "auth = 'both': unknown auth style."),
    ],
)
def test_the_python_client_checks_the_same_values(argument, message):
    with pytest.raises(P44UsageError) as caught:
        P44Client("id", "secret", **({"base_url": "http://127.0.0.1:9"} | argument))
    assert message in str(caught.value)


def test_every_setting_is_declared_once_and_the_rest_derives_from_it(shell):
    from p44_magic import settings

    traits = magics_of(shell).traits(config=True)
    assert set(traits) == set(settings.BY_NAME)
    for setting in settings.SETTINGS:
        assert traits[setting.name].default_value == setting.default, setting.name
        assert traits[setting.name].help == setting.help
    with P44Client("id", "secret", base_url="http://127.0.0.1:9") as p44:
        for name in settings.SESSION_SETTINGS:
            assert getattr(p44, name) == settings.BY_NAME[name].default
        p44.configure(max_rate=2.5, timezone=None, timeout=None)
        assert (p44.max_rate, p44.timezone, p44.timeout) == (2.5, None, 30.0)
    with pytest.raises(TypeError, match="unknown setting 'login_wait'"):
        P44Client("id", "secret", base_url="http://127.0.0.1:9", login_wait=5)


ONE_EDIT = """
from p44_magic import settings
from p44_magic.settings import Setting, count

# The one edit a new setting takes, made here before anything reads the declaration.
settings.SETTINGS += (Setting("max_widgets", 5, count, "Most widgets (a test setting)."),)
settings.BY_NAME = {s.name: s for s in settings.SETTINGS}
settings.SESSION_SETTINGS = tuple(s.name for s in settings.SETTINGS if s.scope == "session")

from IPython.core.interactiveshell import InteractiveShell
from p44_magic import P44Client, P44UsageError

with P44Client("id", "secret", base_url="http://127.0.0.1:9", max_widgets=7) as p44:
    assert p44.max_widgets == 7
    p44.configure(max_widgets=9)
    assert p44.session.max_widgets == 9
try:
    P44Client("id", "secret", base_url="http://127.0.0.1:9", max_widgets=-1)
except P44UsageError as error:
    assert "max_widgets = -1: it must be 0 or more." in str(error)
else:
    raise AssertionError("not checked")
shell = InteractiveShell.instance()
shell.run_line_magic("load_ext", "p44_magic")
magics = shell.magics_manager.registry["P44Magics"]
assert magics.max_widgets == 5
shell.run_line_magic("config", "P44Magics.max_widgets = 11")
try:
    shell.run_line_magic("config", "P44Magics.max_widgets = -3")  # refused, 11 stays
except BaseException as refused:  # the refusal fails the cell
    import sys
    print(refused, file=sys.stderr)
assert magics.max_widgets == 11
shell.run_line_magic("p44_login", "--env demo")
assert magics.client.max_widgets == 11
print("one edit")
"""


def test_a_new_setting_is_one_edit_of_the_declaration(tmp_path):
    import subprocess
    import sys

    env = {**__import__("os").environ, "IPYTHONDIR": str(tmp_path)}
    run = subprocess.run(
        [sys.executable, "-c", ONE_EDIT], capture_output=True, text=True, env=env, timeout=120
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip().endswith("one edit")
    assert "max_widgets = -3: it must be 0 or more." in run.stderr
