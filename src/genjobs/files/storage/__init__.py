"""Where uploads and results live: the local disk or an S3-compatible bucket
(GENJOBS_STORAGE_URL), behind one interface (``Storage``) with signed links.

``open_storage(settings)`` gives the configured store; ``S3Storage`` is imported from
``genjobs.files.storage.s3`` by whoever needs it, so boto3 is loaded only then.
"""

from genjobs.files.storage.base import (
    Storage,
    StoredFile,
    StoredObject,
    guess_mime,
    safe_file_name,
)
from genjobs.files.storage.errors import (
    FileTooLarge,
    StorageConfigError,
    StorageError,
    StorageFull,
    StorageUnavailable,
)
from genjobs.files.storage.factory import open_storage
from genjobs.files.storage.links import KINDS, SignedLinks
from genjobs.files.storage.local import LocalStorage

__all__ = [
    "KINDS",
    "FileTooLarge",
    "LocalStorage",
    "SignedLinks",
    "Storage",
    "StorageConfigError",
    "StorageError",
    "StorageFull",
    "StorageUnavailable",
    "StoredFile",
    "StoredObject",
    "guess_mime",
    "open_storage",
    "safe_file_name",
]
