"""Authentication of the ``/automl-nb/`` API: every handler needs the Jupyter login, and a
write made with the login cookie (as a browser does) also needs the XSRF token."""

from __future__ import annotations

import urllib.parse
import warnings
from http.cookies import SimpleCookie

import pytest
from tornado.httpclient import HTTPClientError

NO_TOKEN = {"Authorization": ""}


def _cookies(response, jar: dict[str, str]) -> dict[str, str]:
    for header in response.headers.get_list("Set-Cookie"):
        cookie = SimpleCookie(header)
        jar.update({name: morsel.value for name, morsel in cookie.items()})
    return jar


async def _login(jp_fetch, token: str) -> dict[str, str]:
    """Log in through the login form as a browser does; returns the cookie jar."""
    page = await jp_fetch("login", headers=NO_TOKEN)
    jar = _cookies(page, {})
    body = urllib.parse.urlencode({"password": token, "_xsrf": jar["_xsrf"]})
    headers = {**NO_TOKEN, "Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())}
    response = await jp_fetch(
        "login",
        method="POST",
        body=body,
        headers=headers,
        follow_redirects=False,
        raise_error=False,
    )
    assert response.code == 302, response.code
    return _cookies(response, jar)


async def test_cookie_write_needs_xsrf(jp_fetch, jp_serverapp, finished_job):
    jar = await _login(jp_fetch, jp_serverapp.identity_provider.token)
    cookie = {**NO_TOKEN, "Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())}
    # The cookie alone reads.
    listing = await jp_fetch("automl-nb", "jobs", headers=cookie)
    assert listing.code == 200
    url = ("automl-nb", "jobs", finished_job.id, "cancel")
    with pytest.raises(HTTPClientError) as err:
        await jp_fetch(*url, method="POST", body="{}", headers=cookie)
    assert err.value.code == 403
    # With the XSRF header the request gets through to the handler (a finished job: 409).
    with pytest.raises(HTTPClientError) as err:
        await jp_fetch(
            *url, method="POST", body="{}", headers={**cookie, "X-XSRFToken": jar["_xsrf"]}
        )
    assert err.value.code == 409


def test_every_handler_is_authenticated(jp_configurable_serverapp, jp_server_config):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        jp_configurable_serverapp(config=jp_server_config)
    unauthenticated = [
        str(w.message) for w in caught if "without @allow_unauthenticated" in str(w.message)
    ]
    assert not any("automl-nb" in message for message in unauthenticated), unauthenticated
