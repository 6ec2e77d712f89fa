"""A real S3 endpoint for the tests: moto in server mode on 127.0.0.1, started once per test session in a
process of its own and stopped at the end, and helpers to fill a bucket (boto3) and to point the app at it.

Test modules take the fixture by importing it: `from s3_server import s3_endpoint  # noqa: F401`. Nothing
global is set: a test gives the AWS_* variables (aws_env) to the process, or monkeypatches them in."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

HOST = "127.0.0.1"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing-key-id", "AWS_SECRET_ACCESS_KEY": "testing-secret-key",
               "AWS_DEFAULT_REGION": "us-east-1"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@dataclass
class Endpoint:
    """A running moto server: its URL, and start/stop (a test that stops it starts it again)."""
    port: int
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def env(self) -> dict[str, str]:
        """The AWS_* variables that point boto3, s3fs and the app at this endpoint."""
        return {**CREDENTIALS, "AWS_ENDPOINT_URL": self.url}

    def start(self) -> None:
        with tempfile.TemporaryFile() as log:  # (its output, for the message when it does not start)
            self.process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(self.port)],
                                            stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
            deadline = time.monotonic() + 30
            while True:
                try:
                    urllib.request.urlopen(f"{self.url}/moto-api/", timeout=1).close()
                    return
                except OSError:
                    if self.process.poll() is not None or time.monotonic() > deadline:
                        self.stop()
                        log.seek(0)
                        raise RuntimeError(f"moto server did not start on {self.url}: "
                                           f"{log.read().decode(errors='replace')[-2000:]}") from None
                    time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)  # (its own session: only this server)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None

    @contextmanager
    def down(self) -> Iterator[None]:
        """The endpoint stopped for a while (its objects are lost: moto keeps them in memory)."""
        self.stop()
        try:
            yield
        finally:
            self.start()

    def client(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.url, aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
                            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                            region_name=CREDENTIALS["AWS_DEFAULT_REGION"])


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[Endpoint]:
    """moto's S3 in server mode on a free port of 127.0.0.1 for the whole session; stopped at the end."""
    endpoint = Endpoint(free_port())
    endpoint.start()
    try:
        yield endpoint
    finally:
        endpoint.stop()


def upload(endpoint: Endpoint, folder: Path, bucket: str, prefix: str) -> str:
    """Every file under folder into bucket/prefix/ (the bucket made if need be); returns s3://bucket/prefix."""
    client = endpoint.client()
    try:
        client.create_bucket(Bucket=bucket)
    except client.exceptions.BucketAlreadyOwnedByYou:
        pass
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        client.upload_file(str(path), bucket, f"{prefix}/{path.relative_to(folder).as_posix()}")
    return f"s3://{bucket}/{prefix}"
