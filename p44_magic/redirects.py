"""Where requests may go: the configured origin, and the redirect rules, written by hand.

httpx could follow redirects itself, but it would follow a token-endpoint redirect with the
secret in the body, and it keeps less control over what crosses hosts. Here: at most
``MAX_REDIRECTS`` hops; 303 (and 301/302 after a POST) become a GET without a body; the
``Authorization`` header is never copied, a hop off the configured origin is sent without the
token holder at all, and cookies stay with the configured origin too.
"""

from __future__ import annotations

import http.cookiejar
from typing import Any

import httpx

from .errors import P44ConnectionError, P44UsageError

MAX_REDIRECTS = 5
_NOT_COPIED = frozenset({"authorization", "host", "content-length", "cookie"})


class OriginCookiePolicy(http.cookiejar.DefaultCookiePolicy):
    """Cookies are taken from, and sent to, the configured origin only.

    The standard policy matches cookies by domain and ignores the port and the scheme, so a
    cookie set by the API would cross with a redirect to another port or to http://.
    """

    def __init__(self, origin: httpx.URL) -> None:
        super().__init__()
        self._origin = origin

    def _ours(self, request: Any) -> bool:
        return same_origin(httpx.URL(request.get_full_url()), self._origin)

    def set_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return self._ours(request) and super().set_ok(cookie, request)

    def return_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return self._ours(request) and super().return_ok(cookie, request)


def same_origin(url: httpx.URL, origin: httpx.URL) -> bool:
    return (url.scheme, url.host, url.port) == (origin.scheme, origin.host, origin.port)


def url_on_origin(target: str, base_url: str, origin: httpx.URL) -> httpx.URL:
    """An absolute URL for a path or URL on the configured origin; other hosts are refused."""
    if target.startswith(("http://", "https://")):
        url = parsed_url(target)
        if not same_origin(url, origin):
            raise P44UsageError(
                f"Refusing {_origin_text(url)}: requests go only to {_origin_text(origin)}.",
                hint="Use a path such as /api/v4/... (the token is sent only to your host).",
            )
        return url
    if not target.startswith("/"):
        target = "/" + target
    return parsed_url(base_url + target)


def _origin_text(url: httpx.URL) -> str:
    return f"{url.scheme}://{url.host}" + (f":{url.port}" if url.port else "")


def parsed_url(text: str) -> httpx.URL:
    """``httpx.URL(text)``, with a URL it cannot read (``https://[]``, a bad IDNA host, a lone
    surrogate) a short usage error."""
    try:
        url = httpx.URL(text)
        url.host  # noqa: B018 - decodes an IDNA host (xn--…), which may fail
        return url
    except (httpx.InvalidURL, UnicodeError, ValueError) as error:
        raise P44UsageError(
            f"{text[:200]!r} is not a URL that can be sent ({type(error).__name__}).",
            hint="Check the host and the {{name}} values in the path.",
        ) from None


def next_hop(request: httpx.Request, response: httpx.Response) -> httpx.Request:
    """The request to send for a redirect answer; a ``Location`` that is no usable URL (a bad
    IDNA host, garbage) is a :class:`P44ConnectionError` like any broken answer."""
    try:
        target = request.url.join(response.headers.get("Location", ""))
        target.host  # noqa: B018 - decodes an IDNA host (xn--…), which may fail
        if target.scheme not in ("http", "https") or not target.host:
            raise ValueError("not an http(s) URL")
    except (httpx.InvalidURL, UnicodeError, ValueError) as error:
        raise bad_location(request, error) from None
    method, content = request.method, request.content
    if response.status_code == 303 or (response.status_code in (301, 302) and method == "POST"):
        method, content = "GET", None
    headers = [
        (key, value)
        for key, value in request.headers.multi_items()
        if key.lower() not in _NOT_COPIED
        and not (content is None and key.lower() == "content-type")
    ]
    return httpx.Request(
        method, target, headers=headers, content=content, extensions=request.extensions
    )


def bad_location(request: httpx.Request, error: Exception) -> P44ConnectionError:
    """A redirect whose ``Location`` is no usable URL (httpx reads it as the answer arrives)."""
    return P44ConnectionError(
        f"The server redirected {request.method} {request.url} to an address that is not a "
        f"usable URL ({type(error).__name__}), so it was not followed.",
        hint="The server (or something in between) answered oddly; check the base URL.",
    )


def hop_unreachable(url: httpx.URL) -> P44ConnectionError:
    return P44ConnectionError(
        f"The server redirected to {_origin_text(url)}, which could not be reached.",
        hint="The configured host answered; the address it redirects to is down or wrong.",
    )


def logged_out() -> P44UsageError:
    return P44UsageError(
        "The session was logged out (or replaced by a new login) while this request ran; "
        "nothing more was sent.",
        hint="Log in again and run the cell again.",
    )


def too_many(request: httpx.Request) -> P44ConnectionError:
    return P44ConnectionError(
        f"Too many redirects (more than {MAX_REDIRECTS}) for {request.method} {request.url}.",
        hint="The server is redirecting in a loop; check the base URL.",
    )
