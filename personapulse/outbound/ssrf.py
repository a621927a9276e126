"""Outbound URL guard: refuse webhook / hook targets that point into our own network (SSRF).

Two layers, both needed:

1. :func:`validate_target_url` when a target is registered (and before each send): scheme,
   credentials, and every address the host resolves to.
2. :func:`safe_session` for the actual request: ``requests-hardened`` resolves the host once at
   connect time, refuses private addresses and connects to exactly the address it checked, so a
   DNS answer that changes between validation and connection (DNS rebinding) does not get through;
   redirects are never followed.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

import requests
from requests_hardened import Config, HTTPSession

__all__ = ["UnsafeTargetError", "check_address", "safe_session", "validate_target_url"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Ranges that ipaddress does not flag as private in every Python 3.11 patch release, but that
# reach internal or translated networks.
_EXTRA_BLOCKED = tuple(
    ipaddress.ip_network(net)
    for net in (
        "100.64.0.0/10",  # carrier-grade NAT
        "192.0.0.0/24",  # IETF protocol assignments
        "192.88.99.0/24",  # 6to4 relay anycast
        "198.18.0.0/15",  # benchmarking
        "64:ff9b::/96",  # NAT64: embeds an IPv4 address
        "64:ff9b:1::/48",  # local-use NAT64
        "2002::/16",  # 6to4: embeds an IPv4 address
        "2001::/32",  # Teredo
        "5f00::/16",  # segment routing
    )
)
# inet_aton accepts 1–4 dot-separated parts, each decimal, octal (leading 0) or hex (0x).
_NUMERIC_HOST = re.compile(r"^(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+)){0,3}\.?$", re.I)


class UnsafeTargetError(ValueError):
    """The URL may not be called from the server; ``reason`` says why in plain words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def check_address(address: str | IPAddress) -> None:
    """Raise :class:`UnsafeTargetError` unless ``address`` is a public unicast address.

    IPv4-mapped / -compatible IPv6 addresses are judged by the IPv4 address they carry.
    """
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            raise UnsafeTargetError(f"{ip} is a scoped (link-local) IPv6 address")
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        elif ip.sixtofour is not None or ip.teredo is not None:
            raise UnsafeTargetError(f"{ip} is a tunnelling address that embeds an IPv4 address")
    for test, what in (
        ("is_unspecified", "unspecified"),
        ("is_loopback", "loopback"),
        ("is_link_local", "link-local"),
        ("is_multicast", "multicast"),
        ("is_reserved", "reserved"),
        ("is_private", "private"),
    ):
        if getattr(ip, test):
            raise UnsafeTargetError(f"{ip} is a {what} address")
    if any(ip in net for net in _EXTRA_BLOCKED if net.version == ip.version):
        raise UnsafeTargetError(f"{ip} is in a special-purpose range")
    if not ip.is_global:
        raise UnsafeTargetError(f"{ip} is not a public address")


def _literal_address(host: str) -> IPAddress | None:
    """The address a host spells directly, including 2130706433 / 0177.0.0.1 / 0x7f.1 forms."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _NUMERIC_HOST.match(host):
        try:
            # The C resolver (and browsers, curl) read these spellings the same way.
            return ipaddress.IPv4Address(socket.inet_aton(host.rstrip(".")))
        except OSError as exc:
            raise UnsafeTargetError(f"host {host!r} is a malformed numeric address") from exc
    return None


def validate_target_url(
    url: str,
    *,
    allow_http: bool = False,
    allow_private: bool = False,
    resolver: Callable = socket.getaddrinfo,
) -> str:
    """Check that ``url`` is safe to call and return it unchanged.

    Rules: https only (http too with ``allow_http``); no user name or password in the URL; a host
    is required; the host must not be an address literal or a name resolving (through
    ``resolver``, signature of ``socket.getaddrinfo``) to any loopback, private, link-local,
    multicast, reserved, unspecified or special-purpose address, IPv4 or IPv6, unless
    ``allow_private``. Raises :class:`UnsafeTargetError` naming the first rule broken.
    """
    if not isinstance(url, str) or not url.strip():
        raise UnsafeTargetError("the URL is empty")
    if url != url.strip() or any(ord(c) < 0x21 or c == "\\" for c in url):
        raise UnsafeTargetError("the URL contains whitespace, control characters or backslashes")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeTargetError(f"the URL cannot be parsed: {exc}") from exc
    scheme = parts.scheme.lower()
    allowed = ("https", "http") if allow_http else ("https",)
    if scheme not in allowed:
        raise UnsafeTargetError(
            f"scheme {parts.scheme or '(none)'!r} is not allowed; use {' or '.join(allowed)}"
        )
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise UnsafeTargetError("the URL must not contain credentials (user:password@)")
    host = parts.hostname
    if not host:
        raise UnsafeTargetError("the URL has no host")
    if allow_private:
        return url
    literal = _literal_address(host)
    if literal is not None:
        check_address(literal)
        return url
    try:
        infos = resolver(host, port or (443 if scheme == "https" else 80), 0, socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise UnsafeTargetError(f"host {host!r} does not resolve: {exc}") from exc
    addresses = {info[4][0] for info in infos}
    if not addresses:
        raise UnsafeTargetError(f"host {host!r} does not resolve to any address")
    for address in sorted(addresses):
        try:
            check_address(address.split("%", 1)[0] if "%" in address else address)
        except UnsafeTargetError as exc:
            raise UnsafeTargetError(f"host {host!r} resolves to {exc.reason}") from exc
    return url


def safe_session(
    *, allow_private: bool = False, timeout: float | tuple[float, float] = (5.0, 15.0)
) -> requests.Session:
    """A ``requests`` session for calling user-supplied URLs.

    Redirects are never followed (a 3xx comes back as the response), environment proxies are
    ignored (a proxy would connect on our behalf, past the address check), requests time out
    after ``timeout`` by default, and unless ``allow_private`` every connection is checked at
    connect time by ``requests-hardened``: the host is resolved once, a private / loopback /
    multicast / special-purpose address raises ``requests_hardened.ip_filter.InvalidIPAddress``
    (a ``requests.RequestException``), and the socket goes to the address that was checked.
    """
    config = Config(
        ip_filter_enable=not allow_private,
        ip_filter_allow_loopback_ips=False,
        never_redirect=True,
        default_timeout=timeout if isinstance(timeout, tuple) else (timeout, timeout),
    )
    session = HTTPSession(config)
    session.trust_env = False
    return session
