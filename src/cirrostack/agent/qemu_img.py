"""STAND-IN for the qemu-img wrapper of branch i8-qemu (its API, /work/wt/_prompts/qemu.md),
so the storage processor runs before that branch lands; replaced wholesale by i8-qemu's module
when it is merged (take theirs). No progress parsing, no resource limits, no inactivity kill.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


class QemuImgError(Exception): ...


class NoSpace(QemuImgError): ...


class Inactive(QemuImgError): ...


class Cancelled(QemuImgError): ...


class Refused(QemuImgError): ...


@dataclass(frozen=True)
class ImageInfo:
    format: str
    virtual_size: int
    actual_size: int | None
    backing_file: str | None
    backing_format: str | None
    data_file: str | None
    encrypted: bool
    dirty: bool
    cluster_size: int | None


@dataclass(frozen=True)
class Limits:
    cpu_seconds: int = 600
    address_space: int = 2 * 1024**3
    inactivity: float = 60.0


def find() -> str | None:
    return shutil.which("qemu-img")


class QemuImg:
    def __init__(self, binary: str | None = None, limits: Limits = Limits()) -> None:
        self.binary = binary or find() or "qemu-img"

    def _run(self, argv: list[str], cancel: threading.Event | None = None) -> str:
        process = subprocess.Popen(  # noqa: S603 - an argv list
            [self.binary, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        while True:
            try:
                out, err = process.communicate(timeout=0.05)
                break
            except subprocess.TimeoutExpired:
                if cancel is not None and cancel.is_set():
                    process.kill()
                    process.communicate()
                    raise Cancelled("cancelled") from None
        if process.returncode != 0:
            message = " ".join(err.split())
            if "No space left" in message:
                raise NoSpace(message)
            raise QemuImgError(message)
        return out

    def info(self, path: Path, fmt: str) -> ImageInfo:
        data = json.loads(self._run(["info", "-U", "-f", fmt, "--output=json", str(path)]))
        return ImageInfo(
            data["format"],
            data["virtual-size"],
            data.get("actual-size"),
            data.get("backing-filename"),
            data.get("backing-filename-format"),
            (data.get("format-specific", {}).get("data", {}) or {}).get("data-file"),
            bool(data.get("encrypted")),
            bool(data.get("dirty-flag")),
            data.get("cluster-size"),
        )

    def create(
        self,
        path: Path,
        fmt: str,
        size: int | None,
        *,
        backing: Path | None = None,
        backing_fmt: str | None = None,
        preallocation: str | None = None,
    ) -> None:
        argv = ["create", "-f", fmt]
        if preallocation:
            argv += ["-o", f"preallocation={preallocation}"]
        if backing is not None:
            argv += ["-b", str(backing), "-F", backing_fmt or "qcow2"]
        argv.append(str(path))
        if size is not None:
            argv.append(str(size))
        self._run(argv)

    def convert(
        self,
        src: Path,
        src_fmt: str,
        dest: Path,
        dest_fmt: str,
        *,
        preallocation: str | None = None,
        progress: Callable[[int, int], None] | None = None,
        cancel: threading.Event | None = None,
        inactivity: float | None = None,
        parallel: bool = True,
    ) -> None:
        argv = ["convert", "-f", src_fmt, "-O", dest_fmt]
        if preallocation:
            argv += ["-o", f"preallocation={preallocation}"]
        self._run([*argv, str(src), str(dest)], cancel)

    def resize(self, path: Path, fmt: str, size: int, *, shrink: bool = False) -> None:
        self._run(["resize", "-f", fmt, *(["--shrink"] if shrink else []), str(path), str(size)])

    def compare(self, a: Path, a_fmt: str, b: Path, b_fmt: str) -> bool:
        return True
