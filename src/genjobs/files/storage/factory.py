"""The store GENJOBS_STORAGE_URL names, for the API (build_services) and worker processes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from genjobs.files.storage.base import Storage
from genjobs.files.storage.local import LocalStorage
from genjobs.files.storage.location import parse_storage_url

if TYPE_CHECKING:
    from genjobs.config import Settings


def open_storage(settings: Settings) -> Storage:
    """Raises StorageConfigError, naming GENJOBS_STORAGE_URL, for a bucket that cannot be
    used (the URL's syntax was checked when the settings were read)."""
    location = parse_storage_url(settings.storage_url)
    if location is None:
        return LocalStorage(settings.files_dir, settings.base_url, settings.signing_key)
    from genjobs.files.storage.s3 import connect  # only deployments with a bucket need boto3

    return connect(location, settings.base_url, settings.signing_key)
