"""Who may use the dashboard: HTTP Basic users, an SSO proxy's identity header, or open on purpose.

Also what trusting a proxy means (werkzeug's ProxyFix, a Secure session cookie) and the Origin check
on every state-changing request. Only /healthz and the static files are open to all; they show no data.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import threading

from flask import Flask, Response, g, request
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.security import check_password_hash, generate_password_hash

from dashboard.settings.config import Settings

from .views.errors import error_response

log = logging.getLogger(__name__)
REALM = "events dashboard"
OPEN_ENDPOINTS = frozenset({"status.healthz", "static"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Verifying a scrypt hash costs tens of milliseconds of CPU: a client sends Basic credentials with every
# request, so a verified pair is remembered (as a keyed digest, never the password) up to this many.
_REMEMBERED = 1024
_MAX_NAME = 256
# scrypt takes 32 MB of memory per check: a burst of new sessions must not multiply that by every thread.
_CHECKS_AT_ONCE = threading.BoundedSemaphore(2)


class Authenticator:
    """Finds out who makes the current request, or answers 401."""

    def __init__(self, settings: Settings):
        self.mode = settings.auth_mode
        self._users = dict(settings.users)
        self._header = settings.auth_header
        self._key = hashlib.sha256(b"events-dashboard.basic:" + settings.secret_key.encode()).digest()
        self._verified: dict[bytes, str] = {}
        self._lock = threading.Lock()
        # Unknown names are checked against this, so that they cost as long as known ones.
        self._decoy = generate_password_hash("decoy") if self._users else ""

    def user(self) -> str | None:
        """The signed-in name; None when sign-in is off. Raises SignInRequired."""
        if self.mode == "basic":
            return self._basic()
        if self.mode == "header":
            return self._from_header()
        return None

    def _basic(self) -> str:
        credentials = request.authorization
        if credentials is None or credentials.type != "basic":
            raise SignInRequired("Sign in with your dashboard user name and password.")
        name, password = credentials.username or "", credentials.password or ""
        digest = hmac.new(self._key, f"{name}\0{password}".encode("utf-8", "surrogatepass"), "sha256").digest()
        with self._lock:
            known = self._verified.get(digest)
        if known is not None:
            return known
        stored = self._users.get(name)
        # check_password_hash compares in constant time (hmac.compare_digest).
        with _CHECKS_AT_ONCE:
            matched = check_password_hash(stored or self._decoy, password)
        if stored is None or not matched:
            log.warning("sign-in refused for user %r from %s", name[:_MAX_NAME], request.remote_addr)
            raise SignInRequired("The user name or password is wrong.")
        with self._lock:
            if len(self._verified) >= _REMEMBERED:
                self._verified.clear()
            self._verified[digest] = name
        return name

    def _from_header(self) -> str:
        name = request.headers.get(self._header or "", "").strip()
        if not name or len(name) > _MAX_NAME or not name.isprintable():
            raise SignInRequired("Sign in through the single sign-on proxy in front of the dashboard.")
        return name


class SignInRequired(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _challenge(authenticator: Authenticator, error: SignInRequired) -> Response:
    response = error_response(401, "Sign-in required", error.message)
    if authenticator.mode == "basic":
        response.headers["WWW-Authenticate"] = f'Basic realm="{REALM}", charset="UTF-8"'
    return response


def _cross_origin() -> bool:
    """A state-changing request whose browser says it comes from another site (CSRF tokens aside)."""
    if request.method in SAFE_METHODS:
        return False
    origin = request.headers.get("Origin")
    return origin is not None and origin != f"{request.scheme}://{request.host}"


def register(app: Flask, settings: Settings) -> None:
    """Sign-in before anything else answers; the proxy trust and cookie settings that go with it."""
    authenticator = Authenticator(settings)
    app.extensions["events_auth"] = authenticator
    if settings.auth_mode == "off":
        log.warning("sign-in is OFF (DASHBOARD_AUTH=off): whoever reaches this port reads and inserts events")
    elif settings.auth_mode == "header":
        log.info("trusting the %s header as the signed-in user: only safe behind the proxy that sets it",
                 settings.auth_header)
    if settings.trust_proxy:
        hops = settings.trust_proxy
        # Flask documents wrapping wsgi_app in middleware this way; its type declares the method only.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops,  # type: ignore[method-assign]
                                x_prefix=hops)
        app.config["SESSION_COOKIE_SECURE"] = True

    @app.before_request
    def _sign_in() -> Response | None:
        g.user = None
        if request.endpoint in OPEN_ENDPOINTS:
            return None
        try:
            g.user = authenticator.user()
        except SignInRequired as error:
            return _challenge(authenticator, error)
        if _cross_origin():
            log.warning("refused a %s from origin %r", request.method, request.headers.get("Origin"))
            return error_response(403, "Cross-origin request refused",
                                  "This form was sent from another site; nothing was written.")
        return None
