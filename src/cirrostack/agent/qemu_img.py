"""The one caller of ``qemu-img`` in cirrostack: typed calls, safe arguments, bounded processes.

Every rule here comes from an image that hurt someone (reference: storage subsystem 5.3/5.4,
field lessons on malicious qcow2):

- argv lists only, never a shell; every path is checked before qemu-img sees it (a name that
  starts with ``-`` would be an option; ``:`` would select a protocol such as ``json:`` or
  ``nbd:``; ``,`` would split an option string), so only ``[A-Za-z0-9._+/-]`` passes;
- the format is always given (``-f``, and ``-F`` for a backing file): qemu-img never probes,
  because probing is how a raw file posing as qcow2 reads the host's files;
- ``info`` answers JSON, parsed into ``ImageInfo``;
- CPU seconds and address space are capped on every call, and a call that stops making
  progress for ``inactivity`` seconds or is cancelled is killed (``agent.limited_run``);
- qemu-img's stderr becomes one clean line in the raised error, of the kind it means.

Errors::

    QemuImgError        qemu-img failed; the message is its stderr, cleaned, one line
     ├── NoSpace        ENOSPC: the destination is full
     ├── Inactive       no progress for ``inactivity`` seconds: killed
     ├── Cancelled      the cancel event was set: killed (the caller removes partial output)
     ├── Refused        an image refused on ingest (raised by ``agent.ingest``)
     ├── UnsafeArgument a path, format or option refused before qemu-img ran
     └── Missing        no qemu-img binary on this host
"""

from __future__ import annotations

import json
import re
import shutil
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cirrostack.agent import errors, limited_run


class QemuImgError(errors.AgentError):
    """qemu-img failed; the message is its error output made one line."""


class NoSpace(QemuImgError):
    """The destination ran out of space (ENOSPC)."""


class Inactive(QemuImgError):
    """qemu-img made no progress for the allowed time and was killed."""


class Cancelled(QemuImgError):
    """The caller cancelled the call; qemu-img was killed. Partial output is the caller's."""


class Refused(QemuImgError):
    """An image refused on ingest: a backing file, a data file, encryption or a wrong format."""


class UnsafeArgument(QemuImgError, ValueError):
    """A path, format name or option that qemu-img is never given."""


class Missing(QemuImgError):
    """qemu-img is not installed on this host."""


#: Formats cirrostack hands to qemu-img (qemu-img's own names).
FORMATS = frozenset({"raw", "qcow2", "vmdk", "vdi", "vhdx", "vpc", "qed"})
PREALLOCATIONS = frozenset({"off", "metadata", "falloc", "full"})
_SAFE_PATH = re.compile(r"[A-Za-z0-9._+/-]+")
_PROGRESS = re.compile(r"\((\d+(?:\.\d+)?)/100%\)")
#: Coroutines per convert when parallel (qemu-img's default is 8; more does not help a disk).
_PARALLEL = 8
_NO_SPACE = "No space left on device"


@dataclass(frozen=True)
class ImageInfo:
    """What ``qemu-img info`` says about one image (without opening its backing chain)."""

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
    """What every qemu-img process may use: CPU seconds, address space, seconds of silence."""

    cpu_seconds: int = 600
    address_space: int = 2 * 1024**3
    inactivity: float = 60.0


def find() -> str | None:
    """The qemu-img binary on this host's PATH, or None."""
    return shutil.which("qemu-img")


# --- pure parts: arguments, progress, JSON ------------------------------------------------


def safe_path(path: Path) -> str:
    """``path`` as an argument, or UnsafeArgument when qemu-img could read it as anything else."""
    text = str(path)
    if not _SAFE_PATH.fullmatch(text) or any(part.startswith("-") for part in text.split("/")):
        raise UnsafeArgument(f"refused to pass the path {text!r} to qemu-img: unsafe characters")
    return text


def safe_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise UnsafeArgument(f"unknown image format {fmt!r}; expected one of {sorted(FORMATS)}")
    return fmt


def _preallocation(mode: str | None) -> list[str]:
    if mode is None:
        return []
    if mode not in PREALLOCATIONS:
        raise UnsafeArgument(f"unknown preallocation {mode!r}; expected {sorted(PREALLOCATIONS)}")
    return ["-o", f"preallocation={mode}"]


def _size(size: int) -> str:
    if size < 0:
        raise UnsafeArgument(f"an image size must not be negative, got {size}")
    return str(size)


def info_argv(path: Path, fmt: str, *, force_share: bool = False) -> list[str]:
    shared = ["-U"] if force_share else []
    return ["info", "-f", safe_format(fmt), "--output=json", *shared, safe_path(path)]


def create_argv(
    path: Path,
    fmt: str,
    size: int | None,
    *,
    backing: Path | None = None,
    backing_fmt: str | None = None,
    preallocation: str | None = None,
) -> list[str]:
    argv = ["create", "-f", safe_format(fmt), *_preallocation(preallocation)]
    if backing is not None:
        if backing_fmt is None:
            raise UnsafeArgument("a backing file needs its format (-F)")
        argv += ["-b", safe_path(backing), "-F", safe_format(backing_fmt)]
    elif size is None:
        raise UnsafeArgument("an image without a backing file needs a size")
    argv.append(safe_path(path))
    return argv if size is None else [*argv, _size(size)]


def convert_argv(
    src: Path,
    src_fmt: str,
    dest: Path,
    dest_fmt: str,
    *,
    preallocation: str | None = None,
    parallel: bool = True,
) -> list[str]:
    """``-p`` always: its lines are what the inactivity clock listens to."""
    argv = ["convert", "-p", "-f", safe_format(src_fmt), "-O", safe_format(dest_fmt)]
    argv += _preallocation(preallocation)
    if parallel:
        argv += ["-m", str(_PARALLEL)]
        if dest_fmt == "raw":  # out-of-order writes: only where the layout is fixed
            argv.append("-W")
    return [*argv, safe_path(src), safe_path(dest)]


def resize_argv(
    path: Path, fmt: str, size: int, *, shrink: bool = False, preallocation: str | None = None
) -> list[str]:
    """``preallocation`` lays out the grown part (qemu-img refuses it with ``shrink``)."""
    flag = ["--shrink"] if shrink else []
    if preallocation is not None and preallocation != "off":
        if shrink:
            raise UnsafeArgument("a shrink takes no preallocation")
        _preallocation(preallocation)  # validated; resize spells it as its own option
        flag.append(f"--preallocation={preallocation}")
    return ["resize", "-f", safe_format(fmt), *flag, safe_path(path), _size(size)]


def compare_argv(a: Path, a_fmt: str, b: Path, b_fmt: str) -> list[str]:
    fmts = ["-f", safe_format(a_fmt), "-F", safe_format(b_fmt)]
    return ["compare", "-p", *fmts, safe_path(a), safe_path(b)]


def check_argv(path: Path, fmt: str) -> list[str]:
    return ["check", "-f", safe_format(fmt), "--output=json", safe_path(path)]


def parse_progress(line: str) -> float | None:
    """The percentage in a ``-p`` line such as ``    (12.34/100%)``, or None."""
    found = _PROGRESS.search(line)
    return float(found.group(1)) if found else None


def parse_info(text: str) -> ImageInfo:
    """``qemu-img info --output=json`` as an ImageInfo; QemuImgError if it is not that."""
    try:
        raw = json.loads(text)
        if not isinstance(raw, dict):
            raise TypeError(f"expected an object, got {type(raw).__name__}")
        return _image_info(raw)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise QemuImgError(f"qemu-img info gave an answer that cannot be read: {exc}") from None


def _image_info(raw: dict[str, Any]) -> ImageInfo:
    specific = raw.get("format-specific", {}).get("data", {})
    return ImageInfo(
        format=str(raw["format"]),
        virtual_size=int(raw["virtual-size"]),
        actual_size=_optional_int(raw.get("actual-size")),
        backing_file=_optional_str(raw.get("backing-filename")),
        backing_format=_optional_str(raw.get("backing-filename-format")),
        data_file=_optional_str(specific.get("data-file")),
        encrypted=bool(raw.get("encrypted", False)) or "encrypt" in specific,
        dirty=bool(raw.get("dirty-flag", False)),
        cluster_size=_optional_int(raw.get("cluster-size")),
    )


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)


def clean_message(stderr: str) -> str:
    """qemu-img's error output as one line: its ``qemu-img:`` prefixes dropped, lines joined."""
    lines = [line.strip() for line in stderr.replace("\r", "\n").splitlines()]
    lines = [line.removeprefix("qemu-img:").strip() for line in lines if line]
    return "; ".join(lines)[:500] or "qemu-img failed without a message"


def error_for(stderr: str) -> QemuImgError:
    """The error kind that qemu-img's error output means."""
    message = clean_message(stderr)
    return NoSpace(message) if _NO_SPACE in stderr else QemuImgError(message)


# --- the wrapper ---------------------------------------------------------------------------


class QemuImg:
    """qemu-img on this host, called under ``limits``. Safe to share between threads."""

    def __init__(self, binary: str | None = None, limits: Limits = Limits()) -> None:
        found = binary or find()
        if found is None:
            raise Missing("qemu-img is not installed on this host (Debian: apt install qemu-utils)")
        self.binary = found
        self.limits = limits

    def info(self, path: Path, fmt: str, *, force_share: bool = False) -> ImageInfo:
        """What the image at ``path`` is, read as ``fmt``; the backing chain is not opened.

        ``force_share`` (``-U``) reads an image another process holds open (a running VM's).
        """
        outcome = self._run(info_argv(path, fmt, force_share=force_share))
        self._raise_for(outcome, "info")
        return parse_info(outcome.stdout)

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
        """Create an image; with ``backing`` a copy-on-write child (size None: the backing's)."""
        argv = create_argv(
            path, fmt, size, backing=backing, backing_fmt=backing_fmt, preallocation=preallocation
        )
        self._raise_for(self._run(argv), "create")

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
        """Copy ``src`` into a new image ``dest`` of ``dest_fmt``.

        ``progress(done, total)`` gets bytes of the source's virtual size done, non-decreasing.
        Raises Inactive after ``inactivity`` (default: the limits') seconds without progress,
        Cancelled when ``cancel`` is set; either way ``dest`` may be partly written.
        """
        argv = convert_argv(
            src, src_fmt, dest, dest_fmt, preallocation=preallocation, parallel=parallel
        )
        on_line = None
        if progress is not None:
            on_line = _progress_lines(progress, self.info(src, src_fmt).virtual_size)
        outcome = self._run(argv, cancel=cancel, inactivity=inactivity, on_line=on_line)
        self._raise_for(outcome, "convert", inactivity)

    def resize(
        self,
        path: Path,
        fmt: str,
        size: int,
        *,
        shrink: bool = False,
        preallocation: str | None = None,
    ) -> None:
        """Set the virtual size to ``size`` bytes; making it smaller needs ``shrink``; a grown
        part is laid out as ``preallocation`` says (SPARSE and FAT volumes stay so)."""
        argv = resize_argv(path, fmt, size, shrink=shrink, preallocation=preallocation)
        self._raise_for(self._run(argv), "resize")

    def compare(self, a: Path, a_fmt: str, b: Path, b_fmt: str) -> bool:
        """Whether the two images hold the same guest-visible content."""
        outcome = self._run(compare_argv(a, a_fmt, b, b_fmt))
        if outcome.stopped is None and outcome.returncode in (0, 1):
            return outcome.returncode == 0
        raise self._error(outcome, "compare")

    def check(self, path: Path, fmt: str) -> bool:
        """Whether the image is free of corruption (leaked clusters are not corruption)."""
        outcome = self._run(check_argv(path, fmt))
        if outcome.stopped is None and outcome.returncode in (0, 2, 3):
            return outcome.returncode != 2
        raise self._error(outcome, "check")

    def _run(
        self,
        argv: Sequence[str],
        *,
        cancel: threading.Event | None = None,
        inactivity: float | None = None,
        on_line: Callable[[str], None] | None = None,
    ) -> limited_run.Outcome:
        try:
            return limited_run.run(
                [self.binary, *argv],
                cpu_seconds=self.limits.cpu_seconds,
                address_space=self.limits.address_space,
                inactivity=self.limits.inactivity if inactivity is None else inactivity,
                cancel=cancel,
                on_line=on_line,
            )
        except OSError as exc:
            raise QemuImgError(f"qemu-img could not be started: {exc}") from exc

    def _raise_for(
        self, outcome: limited_run.Outcome, verb: str, inactivity: float | None = None
    ) -> None:
        if outcome.stopped is not None or outcome.returncode != 0:
            raise self._error(outcome, verb, inactivity)

    def _error(
        self, outcome: limited_run.Outcome, verb: str, inactivity: float | None = None
    ) -> QemuImgError:
        if outcome.stopped is limited_run.Stop.CANCELLED:
            return Cancelled(f"qemu-img {verb} was cancelled")
        if outcome.stopped is limited_run.Stop.INACTIVE:
            seconds = self.limits.inactivity if inactivity is None else inactivity
            return Inactive(f"qemu-img {verb} made no progress for {seconds:g} s and was killed")
        if outcome.returncode < 0:
            return QemuImgError(f"qemu-img {verb} was killed by signal {-outcome.returncode}")
        return error_for(outcome.stderr)


def _progress_lines(progress: Callable[[int, int], None], total: int) -> Callable[[str], None]:
    """An ``on_line`` turning ``-p`` percentages into bytes done of ``total``, never backwards."""
    best = -1

    def on_line(line: str) -> None:
        nonlocal best
        percent = parse_progress(line)
        if percent is None:
            return
        done = min(total, int(total * percent / 100))
        if done > best:
            best = done
            progress(done, total)

    return on_line
