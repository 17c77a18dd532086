"""GENJOBS_STORAGE_URL: where files live. Empty is the local disk under the data dir;
``s3://BUCKET[/PREFIX]?endpoint_url=...&region=...&addressing_style=path`` is a bucket of
any S3-compatible store (credentials come from the AWS variables or boto3's usual chain).

Parsed when the settings are read, so a bad value stops ``serve`` and ``worker`` before
they start, with the rule in the message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

RULE = (
    "must be empty (files on the local disk under the data dir) or "
    "s3://BUCKET[/PREFIX][?endpoint_url=http(s)://HOST[:PORT]&region=NAME"
    "&addressing_style=auto|path|virtual]"
)
_BUCKET = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,254}$")
_OPTIONS = {"endpoint_url", "region", "addressing_style"}
_ADDRESSING_STYLES = {"auto", "path", "virtual"}


@dataclass(frozen=True)
class S3Location:
    bucket: str
    prefix: str  # "" or ending with "/": keys are <prefix><kind>/<token>/<name>
    endpoint_url: str | None = None  # None: AWS itself
    region: str | None = None  # None: from AWS_DEFAULT_REGION / the AWS config
    addressing_style: str = "auto"


def parse_storage_url(url: str) -> S3Location | None:
    """The bucket ``url`` names, or None for the local disk. Raises ValueError naming the
    rule when ``url`` is neither."""
    if not url:
        return None
    try:
        parts = urlsplit(url)
        options = dict(parse_qsl(parts.query, keep_blank_values=True, strict_parsing=True))
    except ValueError as exc:
        raise ValueError(f"{RULE} ({exc})") from exc
    if parts.scheme != "s3":
        raise ValueError(f"{RULE} (got the scheme {parts.scheme or 'none'!r})")
    if not _BUCKET.match(parts.netloc):
        raise ValueError(f"{RULE} (the bucket {parts.netloc!r} is missing or not a bucket name)")
    if unknown := sorted(options.keys() - _OPTIONS):
        raise ValueError(f"{RULE} (unknown option {', '.join(unknown)})")
    endpoint = options.get("endpoint_url")
    if endpoint is not None and not re.match(r"^https?://[^/?#\s]+/?$", endpoint):
        raise ValueError(f"{RULE} (endpoint_url {endpoint!r} is not http(s)://HOST[:PORT])")
    style = options.get("addressing_style", "auto")
    if style not in _ADDRESSING_STYLES:
        raise ValueError(f"{RULE} (addressing_style {style!r})")
    prefix = parts.path.strip("/")
    return S3Location(
        bucket=parts.netloc,
        prefix=f"{prefix}/" if prefix else "",
        endpoint_url=endpoint,
        region=options.get("region") or None,
        addressing_style=style,
    )
