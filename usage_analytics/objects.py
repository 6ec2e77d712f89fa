"""Where the exports (USAGE_DATA_DIR) and the month-close revisions (CLOSE_DIR) are: a local folder, or an
S3-compatible bucket given as s3://bucket/prefix.

A bucket location is an ObjectPath: the part of pathlib.Path the app uses on these folders (/, name, parent,
relative_to, rglob, glob, stat, is_file, read_bytes, write_bytes, unlink), over s3fs with the standard
AWS_* variables (AWS_ENDPOINT_URL for MinIO or any S3-compatible store; botocore reads them all itself).
DuckDB reads a bucket's exports from a Mirror: a local copy under STATE_DIR/store, brought up to date from a
listing before each build (only new or replaced objects are downloaded). Reading the objects through s3fs
registered on DuckDB's connection (register_filesystem; its httpfs extension cannot be installed for duckdb
2.0.1 from this project's registry) took twice as long as a local folder; a download and a local read took
1.08 times at 10M rows and 1.26 times at 100M (docs/decisions.md, "Exports on object storage").

A bucket has no folders: a "folder" is a prefix, and it exists while an object sits under it. The
signature of an object is its size and ETag (from the listing), not a modification time."""
from __future__ import annotations

import errno
import fcntl
import fnmatch
import json
import os
import posixpath
import shutil
import stat as stat_module
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Callable, Iterable, Iterator, Union

SCHEME = "s3://"
CONNECT_SECONDS = 5  # an endpoint that does not answer is unreachable after this (a few tries)
ATTEMPTS = 3  # tries of one request: a refused connection gives up within 1-5 s (botocore's defaults: 9 s)


class Unreachable(OSError):
    """The bucket cannot be listed or read (endpoint down, refused credentials, no such bucket). The message
    names the location and the kind of error (strerror: the kind alone), never a credential or a signed URL."""

    def __init__(self, where: object, what: str, error: BaseException):
        super().__init__(errno.EHOSTUNREACH, describe(error))
        self.where, self.what = str(where), what

    def __str__(self) -> str:
        return f"{self.where} cannot be {self.what} ({self.strerror})"


def is_url(value: object) -> bool:
    """Whether a setting names a bucket: s3://bucket/…, also as pathlib spells it after Path("s3://…")
    (s3:/bucket/…, one slash), so a setting already made a Path still counts."""
    text = str(value)
    return text.startswith(SCHEME) or (text.startswith("s3:/") and len(text) > 4 and text[4] != "/")


def _key_of(value: object) -> str:
    """bucket/key… without the scheme, normalised (no trailing slash, no '.' or '..' parts)."""
    text = str(value)
    text = text[len(SCHEME):] if text.startswith(SCHEME) else text[len("s3:/"):]
    normal = posixpath.normpath("/" + text).lstrip("/")
    return "" if normal == "." else normal


_FILESYSTEM = None
_GUARD = threading.Lock()


def filesystem():
    """The process's S3 filesystem (s3fs): credentials, region and endpoint from the AWS_* variables, as
    botocore reads them; listings never cached (a new object must change the fingerprint at once)."""
    global _FILESYSTEM
    with _GUARD:
        if _FILESYSTEM is None:
            import s3fs  # (only where a bucket is configured)

            class _S3(s3fs.S3FileSystem):
                retries = ATTEMPTS  # s3fs's own tries around botocore's (5 of its own by default)

            _FILESYSTEM = _S3(use_listings_cache=False, skip_instance_cache=True, config_kwargs={
                "connect_timeout": CONNECT_SECONDS, "retries": {"max_attempts": ATTEMPTS, "mode": "standard"}})
        return _FILESYSTEM


def reset() -> None:
    """Forget the filesystem (the tests point AWS_ENDPOINT_URL at another endpoint)."""
    global _FILESYSTEM
    with _GUARD:
        _FILESYSTEM = None


def describe(error: BaseException) -> str:
    """An error of the object store in a few words: its kind and S3 code, never its text (botocore puts
    request URLs in it, and a presigned one would carry a signature)."""
    code = getattr(error, "response", {}).get("Error", {}).get("Code") if hasattr(error, "response") else None
    cause = error.__cause__ or error.__context__
    if code is None and cause is not None and hasattr(cause, "response"):
        code = cause.response.get("Error", {}).get("Code")
    kind = type(error).__name__
    return f"{kind} {code}" if code and code not in kind else kind


@dataclass(frozen=True)
class Info:
    """What a listing says of an object: stat()'s answer for an ObjectPath."""
    st_size: int
    etag: str
    st_mtime_ns: int  # the object's LastModified (seconds on most stores: not for signatures)
    st_mode: int = stat_module.S_IFREG | 0o444


def _info(entry: dict) -> Info:
    modified = entry.get("LastModified")
    return Info(int(entry.get("size", entry.get("Size", 0)) or 0), str(entry.get("ETag", "")).strip('"'),
                int(modified.timestamp() * 1e9) if modified is not None else 0)


class ObjectPath:
    """An object, or a prefix (a "folder"), of a bucket: s3://bucket/key."""

    __slots__ = ("_key", "_stat")

    def __init__(self, value: object, info: Info | None = None):
        self._key = _key_of(value)
        self._stat = info

    # naming
    def __str__(self) -> str:
        return SCHEME + self._key

    def __repr__(self) -> str:
        return f"ObjectPath({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ObjectPath) and other._key == self._key

    def __hash__(self) -> int:
        return hash((SCHEME, self._key))

    def __lt__(self, other: ObjectPath) -> bool:  # (part by part, as pathlib sorts: a listing sorts alike)
        return self._key.split("/") < other._key.split("/")

    def __truediv__(self, name: object) -> ObjectPath:
        return ObjectPath(SCHEME + self._key + "/" + str(name))

    @property
    def bucket(self) -> str:
        return self._key.split("/", 1)[0]

    @property
    def name(self) -> str:
        return self._key.rsplit("/", 1)[-1]

    @property
    def parent(self) -> ObjectPath:
        return ObjectPath(SCHEME + self._key.rsplit("/", 1)[0]) if "/" in self._key else self

    def resolve(self) -> ObjectPath:
        return self  # (normalised when made: no '.', '..' or doubled slashes)

    def relative_to(self, other: ObjectPath) -> PurePosixPath:
        if not self.is_relative_to(other):
            raise ValueError(f"{self} is not in the subpath of {other}")
        return PurePosixPath(self._key[len(other._key):].lstrip("/") or ".")

    def is_relative_to(self, other: object) -> bool:
        return isinstance(other, ObjectPath) and (self._key == other._key or
                                                 self._key.startswith(other._key + "/"))

    # the store
    def _walk(self) -> Iterator[ObjectPath]:
        """Every object under this prefix (listed, with size and ETag), in key order. Unreachable when the
        bucket cannot be listed."""
        try:
            found = filesystem().find(self._key, detail=True)
        except FileNotFoundError:  # (s3fs: no such prefix; a missing bucket is Unreachable below)
            found = {}
        except Exception as error:  # noqa: BLE001 (botocore, aiohttp, OSError: all mean "cannot be listed")
            raise Unreachable(self, "listed", error) from None
        if isinstance(found, list):
            found = {entry["name"]: entry for entry in found}
        for name in sorted(found):
            entry = found[name]
            if entry.get("type") == "directory" or name.endswith("/"):
                continue
            yield ObjectPath(SCHEME + name, _info(entry))

    def listing(self) -> list[ObjectPath]:
        """Every object under this prefix, with its size and ETag (one listing: the fingerprint's source)."""
        found = list(self._walk())
        if not found:  # nothing under the prefix: the bucket must exist (s3fs lists a missing one as empty)
            try:
                filesystem().call_s3("head_bucket", Bucket=self.bucket)
            except Exception as error:  # noqa: BLE001
                raise Unreachable(self, "listed", error) from None
        return found

    def rglob(self, pattern: str) -> Iterator[ObjectPath]:
        """The objects under this prefix whose name matches (objects only: a bucket has no folders)."""
        for path in self.listing():
            if fnmatch.fnmatchcase(path.name, pattern):
                yield path

    def glob(self, pattern: str) -> Iterator[ObjectPath]:
        """The objects and "folders" right under this prefix whose name matches."""
        names = set()
        for path in self.listing():
            names.add(path.relative_to(self).parts[0])
        for name in sorted(names):
            if fnmatch.fnmatchcase(name, pattern):
                yield self / name

    def stat(self) -> Info:
        """Size and ETag: from the listing that found this object, else asked of the store (FileNotFoundError
        when there is no such object)."""
        if self._stat is None:
            try:
                entry = filesystem().info(self._key)
            except FileNotFoundError:
                raise
            except Exception as error:  # noqa: BLE001
                raise Unreachable(self, "read", error) from None
            if entry.get("type") == "directory":
                raise IsADirectoryError(str(self))
            return _info(entry)
        return self._stat

    def is_file(self) -> bool:
        try:
            self.stat()
            return True
        except (FileNotFoundError, IsADirectoryError):
            return False

    def read_bytes(self) -> bytes:
        try:
            return filesystem().cat_file(self._key)
        except FileNotFoundError:
            raise
        except Exception as error:  # noqa: BLE001
            raise Unreachable(self, "read", error) from None

    def read_text(self, encoding: str = "utf-8") -> str:
        return self.read_bytes().decode(encoding)

    def write_bytes(self, data: bytes, exclusive: bool = False) -> int:
        """Write the whole object in one request (exclusive: only if there is none yet, FileExistsError if
        there is; on stores that honour If-None-Match)."""
        try:
            filesystem().pipe_file(self._key, data, mode="create" if exclusive else "overwrite")
        except Exception as error:  # noqa: BLE001
            code = describe(error)
            if "PreconditionFailed" in code or isinstance(error, FileExistsError):
                raise FileExistsError(f"{self} already exists") from None
            raise OSError(f"{self} cannot be written ({code})") from None
        return len(data)

    def unlink(self, missing_ok: bool = False) -> None:
        try:
            filesystem().rm_file(self._key)
        except FileNotFoundError:
            if not missing_ok:
                raise


Location = Union[Path, ObjectPath]


def location(value: object) -> Location:
    """A setting's folder or file: an ObjectPath for s3://…, else a local Path (as given)."""
    if isinstance(value, ObjectPath):
        return value
    return ObjectPath(value) if is_url(value) else Path(value)


INDEX = ".objects.json"  # a mirror's record of what it holds: relative key -> [size, ETag]


class Mirror:
    """A local copy of the exports in a bucket, for DuckDB to read at disk speed: the parquet objects of the
    datasets (as the checks would list them), downloaded when new or replaced, deleted when gone. What is
    found there is named by the objects (s3://…), and a file's signature is its object's size and ETag.

    One builder at a time (lock()): a second waits, then finds the store the first one built."""

    def __init__(self, source: ObjectPath, folder: Path):
        self.source = source
        self.folder = Path(folder)
        self._index: dict[str, list] = {}

    @contextmanager
    def lock(self) -> Iterator[None]:
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def sync(self, datasets: Iterable[str], progress: Callable[[str], None]) -> None:
        """Bring the copy up to date with a listing of the bucket (Unreachable when it cannot be listed or an
        object cannot be read). A dataset with an object of any kind has its folder; one without, none."""
        listed = self.source.listing()
        wanted: dict[str, ObjectPath] = {}
        folders = set()
        for path in listed:
            rel = path.relative_to(self.source)
            if len(rel.parts) < 2 or rel.parts[0] not in datasets:
                continue
            folders.add(rel.parts[0])
            hidden = any(part.startswith((".", "_")) for part in rel.parts[1:])
            if path.name.endswith(".parquet") and not hidden:
                wanted[rel.as_posix()] = path
        try:
            index = json.loads((self.folder / INDEX).read_text())
        except (OSError, ValueError):
            index = {}
        for name in datasets:  # a dataset's folder as the bucket has it: empty, or none at all
            if name in folders:
                (self.folder / name).mkdir(parents=True, exist_ok=True)
            else:
                shutil.rmtree(self.folder / name, ignore_errors=True)
        for name in sorted(folders):  # files of objects gone (or replaced: downloaded again below)
            for file in sorted((self.folder / name).rglob("*")):
                rel = file.relative_to(self.folder).as_posix()
                if file.is_file() and (rel not in wanted or index.get(rel) != self._signature(wanted[rel])):
                    file.unlink()
                    index.pop(rel, None)
        missing = {rel: path for rel, path in wanted.items()
                   if index.get(rel) != self._signature(path) or not (self.folder / rel).is_file()}
        if missing:
            size = sum(path.stat().st_size for path in missing.values())
            progress(f"downloading {len(missing)} object{'s' if len(missing) != 1 else ''} "
                     f"({size / 1e6:,.1f} MB) of {self.source}")
            self._download(missing)
        self._index = {rel: self._signature(path) for rel, path in wanted.items()
                       if (self.folder / rel).is_file()}
        (self.folder / (INDEX + ".new")).write_text(json.dumps(self._index))
        os.replace(self.folder / (INDEX + ".new"), self.folder / INDEX)

    @staticmethod
    def _signature(path: ObjectPath) -> list:
        info = path.stat()
        return [info.st_size, info.etag]

    def _download(self, missing: dict[str, ObjectPath]) -> None:
        """Each object to a temporary name, then renamed into place: a file of the copy is a whole object
        (a download cut short is never taken for a truncated export). An object deleted meanwhile is left out."""
        partial = self.folder / ".partial"
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir()
        targets = {rel: partial / f"{number}.part" for number, rel in enumerate(sorted(missing))}
        try:
            filesystem().get([missing[rel]._key for rel in targets], [str(t) for t in targets.values()])
        except FileNotFoundError:
            pass  # (the others were fetched: each is checked below)
        except Exception as error:  # noqa: BLE001 (botocore, aiohttp, OSError)
            raise Unreachable(self.source, "read", error) from None
        for rel, target in targets.items():
            if target.is_file():
                with open(target, "rb") as written:  # on disk before the build writes its store file
                    os.fsync(written.fileno())
                (self.folder / rel).parent.mkdir(parents=True, exist_ok=True)
                os.replace(target, self.folder / rel)
        shutil.rmtree(partial, ignore_errors=True)

    def signatures(self, files: list[Path]) -> list[list]:
        """Each file's object, size and ETag (checking.signatures for a local folder)."""
        found = []
        for file in files:
            rel = Path(file).relative_to(self.folder).as_posix()
            found.append([str(self.source / rel), *self._index.get(rel, [None, None])])
        return found

    @staticmethod
    def _swap(data: dict, old: str, new: str) -> dict:
        """data with every path (or message) under folder old naming the same path under new."""
        text = json.dumps(data).replace(json.dumps(old + "/")[1:-1], json.dumps(new + "/")[1:-1])
        return json.loads(text)

    def named(self, state: dict) -> dict:
        """What checking the copy found, as checking the bucket would say it: its files, the files and the
        messages of its reports and problems name the objects; signatures are sizes and ETags."""
        state = {**state, "signatures": {name: self.signatures([Path(f) for f in files])
                                         for name, files in state["files"].items()}}
        return self._swap(state, str(self.folder), str(self.source))

    def local(self, state: dict) -> dict:
        """A state as named() made it, naming the copy's files again (to refresh a store from the copy)."""
        return self._swap(state, str(self.source), str(self.folder))
