"""Server addresses as they may be shown: a password or token written into a URL never reaches a status page,
an error message or a log."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "****"
_SECRET_PARAMETERS = ("key", "token", "secret", "password", "auth", "signature")


def redacted(url: str | None) -> str | None:
    """`https://user:pw@host/v1?api_key=x` → `https://user:****@host/v1?api_key=****`."""
    if not url:
        return url
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            userinfo, host = netloc.rsplit("@", 1)
            user = userinfo.split(":", 1)[0]
            netloc = f"{user}:{MASK}@{host}" if ":" in userinfo else f"{MASK}@{host}"
        query = urlencode(
            [
                (name, MASK if any(s in name.lower() for s in _SECRET_PARAMETERS) else value)
                for name, value in parse_qsl(parts.query, keep_blank_values=True)
            ],
            safe="*",
        )
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    except ValueError:  # not a URL at all: show nothing of it
        return MASK
