"""Where an ``image_url`` points: local paths, ``file://``, fsspec URLs and Azure datastores.

Azure JSONL files usually name images with datastore URIs such as
``azureml://subscriptions/<sub>/resourcegroups/<rg>/workspaces/<ws>/datastores/<name>/paths/<p>``.
Locally, each datastore name is mapped to a folder (or an fsspec URL prefix) by the user:

* the ``datastores=`` argument (``{"workspaceblobstore": "/data/blob"}``), else
* the ``AUTOML_NB_DATASTORES`` environment variable, as a JSON object or as
  ``name=folder,name2=folder2``.

The name ``*`` maps every datastore not named otherwise.
"""

from __future__ import annotations

import difflib
import json
import os
import posixpath
import re
from collections.abc import Mapping
from urllib.parse import unquote
from urllib.parse import urlparse

from automl_nb.errors import DataError
from automl_nb.errors import Problem

DATASTORES_ENV = "AUTOML_NB_DATASTORES"

# Two or more letters before "://" so that Windows drive letters ("C:\\x") stay paths.
_URL_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]+://")
_DRIVE_RE = re.compile(r"^[A-Za-z]:[\\/]")
_AZUREML_RE = re.compile(
    r"^azureml://(?:subscriptions/[^/]+/resource[Gg]roups/[^/]+/"
    r"(?:providers/Microsoft\.MachineLearningServices/)?workspaces/[^/]+/)?"
    r"datastores/(?P<name>[^/]+)/paths/(?P<path>.*)$",
    re.IGNORECASE,
)

_HOW_TO_MAP = (
    "map each datastore name to a local folder with the datastores= argument "
    "({'workspaceblobstore': '/data/blob'}), the --datastore NAME=FOLDER option, or the "
    f"{DATASTORES_ENV} environment variable ('name=folder,name2=folder2' or a JSON object)"
)


class UnmappedDatastoreError(DataError):
    """An ``azureml://`` datastore URI met while no datastore mapping is configured at all."""


def is_url(path: str) -> bool:
    """True when ``path`` is a URL with a scheme (``s3://``, ``https://``, ``azureml://``)."""
    return bool(_URL_RE.match(path))


def parse_datastore_mapping(text: str, *, origin: str = DATASTORES_ENV) -> dict[str, str]:
    """Parse a datastore mapping written as a JSON object or ``name=folder,name2=folder2``.

    Args:
        text: The mapping text (e.g. the value of ``AUTOML_NB_DATASTORES``).
        origin: Where the text came from, named in errors.

    Returns:
        ``{datastore name: folder or URL prefix}``.

    Raises:
        DataError: The text is neither form.
    """
    text = text.strip()
    if not text:
        return {}
    if text.startswith("{"):
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataError(
                Problem(f"datastore mapping is not valid JSON: {exc.msg}", path=origin)
            ) from None
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise DataError(
                Problem("datastore mapping must map names to folder strings", path=origin)
            )
        return {str(k): v for k, v in value.items()}
    mapping: dict[str, str] = {}
    for item in text.split(","):
        name, sep, folder = item.partition("=")
        if not sep or not name.strip() or not folder.strip():
            raise DataError(
                Problem(
                    "datastore mapping entries must read NAME=FOLDER",
                    path=origin,
                    value=repr(item.strip()),
                )
            )
        mapping[name.strip()] = folder.strip()
    return mapping


def datastore_mapping(datastores: Mapping[str, str] | None = None) -> dict[str, str]:
    """The datastore mapping in effect: ``datastores`` if given, else the environment variable.

    Local folders are made absolute (relative to the current directory); URL prefixes are
    kept as they are.
    """
    if datastores is None:
        datastores = parse_datastore_mapping(os.environ.get(DATASTORES_ENV, ""))
    out = {}
    for name, folder in datastores.items():
        folder = str(folder)
        out[str(name)] = folder if is_url(folder) else os.path.abspath(os.path.expanduser(folder))
    return out


def _join(base: str, relative: str) -> str:
    relative = relative.lstrip("/")
    if is_url(base):
        return base.rstrip("/") + "/" + relative
    return os.path.normpath(os.path.join(base, *relative.split("/")))


def resolve_image_url(
    url: str,
    *,
    base_dir: str | os.PathLike[str] | None = None,
    datastores: Mapping[str, str] | None = None,
) -> str:
    """Turn an ``image_url`` into something :func:`open_image` reads.

    Args:
        url: The value from the JSONL: an absolute or relative path, a ``file://`` URL, an
            fsspec URL (``https://``, ``s3://``, ``gs://``, ``memory://``, ...) or an
            ``azureml://.../datastores/<name>/paths/<p>`` URI.
        base_dir: Folder that relative paths are relative to (the JSONL's folder); the current
            directory when ``None``. May itself be a URL.
        datastores: ``{datastore name: local folder or URL prefix}``; defaults to the
            ``AUTOML_NB_DATASTORES`` environment variable.

    Returns:
        An absolute, normalised local path, or a URL for fsspec.

    Raises:
        DataError: An ``azureml://`` URI whose datastore is not mapped, or another
            ``azureml://`` form (data assets are not files).

    Example:
        >>> resolve_image_url(
        ...     "azureml://datastores/blob/paths/img/1.jpg", datastores={"blob": "/data"}
        ... )
        '/data/img/1.jpg'
    """
    url = url.strip()
    if url.lower().startswith("azureml://"):
        match = _AZUREML_RE.match(url)
        if match is None:
            raise DataError(
                Problem(
                    "unsupported azureml:// URI; images must be datastore paths "
                    "(azureml://.../datastores/<name>/paths/<path>)",
                    value=repr(url),
                )
            )
        mapping = datastore_mapping(datastores)
        name = match.group("name")
        folder = mapping.get(name, mapping.get("*"))
        if folder is None:
            if not mapping:
                message = f"datastore {name!r} is not mapped to a local folder; {_HOW_TO_MAP}"
                raise UnmappedDatastoreError(Problem(message, value=repr(url)))
            close = difflib.get_close_matches(name, list(mapping), n=1)
            raise DataError(
                Problem(
                    f"datastore {name!r} is not in the datastore mapping "
                    f"(mapped: {', '.join(sorted(mapping))})",
                    value=repr(url),
                    suggestion=close[0] if close else None,
                )
            )
        return _join(folder, unquote(match.group("path")))
    base = os.fspath(base_dir) if base_dir is not None else os.getcwd()
    if url.lower().startswith("file:"):
        parsed = urlparse(url)
        url = unquote(parsed.path)
        if parsed.netloc and parsed.netloc.lower() != "localhost":
            # file://dir/x.jpg is a common way to write the relative path dir/x.jpg.
            url = parsed.netloc + url
    elif is_url(url):
        return url
    if os.sep == "/" and "\\" in url and not _DRIVE_RE.match(url):
        # JSONL written on Windows: images\1.jpg means images/1.jpg.
        url = url.replace("\\", "/")
    url = os.path.expanduser(url)
    if os.path.isabs(url):
        return os.path.normpath(url)
    if is_url(base):
        scheme, rest = base.split("://", 1)
        return (
            f"{scheme}://{posixpath.normpath(rest.rstrip('/') + '/' + url.replace(os.sep, '/'))}"
        )
    return os.path.normpath(os.path.join(os.path.abspath(base), url))
