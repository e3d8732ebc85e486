"""Where results go, and writing them so that no crash, Ctrl-C or second command ever loses a result.

Every folder sco-sim writes (a run, a sweep, a comparison, a backtest) carries a marker, :data:`MARKER`
(``{"kind", "version", "created", "files"}``), whose ``files`` is its :class:`Inventory`: every file sco-sim
wrote there, and the folders it owns whole. ``--force`` replaces only a folder that carries it (or, written by an
earlier version, its kind's own manifest saying sco-sim wrote it) and holds nothing sco-sim did not write
(:func:`strangers`); no command ever writes into the root, the home folder, the current folder or one of its
parents. What a user adds while a command writes, or inside the figures a command redraws, is carried into the
new folder, never deleted (:func:`swap_in`).

A folder is replaced without a moment in which neither the old nor the new results are under its name: the
new one is written into a hidden sibling (``.NAME.new-XXXX``, marked first), then swapped in at once (Linux's
``renameat2(RENAME_EXCHANGE)``; elsewhere the old one is renamed aside to ``.NAME.old-XXXX`` and the new one
renamed in), and only then is the old one removed (its marker last). A command that writes to NAME holds an
exclusive lock on it for its whole length, in ``.NAME.lock`` beside it (so swaps leave the lock alone), and
first recovers what an interrupted command left: with the lock held, every hidden sibling of ours is stale, so
a set-aside copy is put back if NAME is missing, and the rest is removed.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import itertools
import json
import os
import re
import secrets
import shutil
import socket
import stat
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .. import __version__
from .errors import UsageError
from .vocabulary import FIGURE_FORMATS

#: Where a command writes when it is given no --out: a new folder in here, named after what ran and when.
RESULTS = Path("results")
#: The folder, inside a run's or a sweep's, that holds its figures.
FIGURES = "figures"
#: The file that marks a folder as written by sco-sim, in every folder it writes.
MARKER = ".sco-sim.json"
#: The kinds of folder sco-sim writes, as its marker names them.
KINDS = ("run", "sweep", "comparison", "backtest", "sensitivity", "fit", "score")
#: The hidden siblings of a folder NAME: ``.NAME.<tag>-XXXX`` while written, set aside, or waiting to replace it.
NEW, OLD, PENDING = "new", "old", "pending"
#: What an earlier version left beside a run it was replacing (put back if the run is missing).
LEGACY_ASIDE = "replaced"

#: Whether a folder without a marker was written by an earlier sco-sim (its kind's manifest says so).
Legacy = Callable[[Path], bool]

#: What the versions before the marker recorded its files wrote, by name: how a folder of theirs is told from the
#: files a user added to it. A record of the past, fixed: later versions record what they write (:func:`record`).
EARLIER_FILES = frozenset({
    "outcomes.parquet", "summary.csv", "stances.csv", "by_year.csv", "cohesion.csv", "summary.txt", "metadata.json",
    "report.html", "sweep.json", "design.parquet", "chunks.jsonl", "summary.parquet", "by_year.parquet",
    "stances.parquet", "failures.parquet", "sensitivity.csv", "sensitivity.parquet", "differences.csv", "issues.csv",
    "fit.json", "scoring.json", "skipped.txt", "sensitivity_coded.csv", "sensitivity_coded.txt",
    "sensitivity_coded.json", "cases.csv", "fitted.yaml",
    *(f"{name}.{fmt}" for name in ("adoption", "implementation", "objections", "stances", "alignment", "differences")
      for fmt in FIGURE_FORMATS),
})
#: The folders those versions wrote, each sco-sim's whole: a run's or a sweep's figures, a sweep's chunks.
EARLIER_FOLDERS = frozenset({FIGURES, "chunks"})
#: What a command cut short leaves inside a folder: a file being written atomically (``.NAME.`` and 8 random
#: characters, :func:`atomic_write`) or a folder being staged or set aside (``.NAME.new-``, ``.NAME.old-``).
_DEBRIS = re.compile(r"\..+\.(?:(?:new|old)-)?[a-z0-9_]{8}")


# --- where results go, and where they may not -------------------------------------------------------


def default_folder(name: str) -> Path:
    """A new folder under :data:`RESULTS` for ``name``, created empty here so that it is this command's alone: two
    commands started in the same second get two folders (never an earlier run's, nor each other's)."""
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in name) or "run"
    safe = safe.encode()[:100].decode(errors="ignore")  # with the stamp, well within a file name's 255 bytes
    stamp = time.strftime("%Y%m%d-%H%M%S")
    RESULTS.mkdir(parents=True, exist_ok=True)
    for suffix in itertools.count(1):
        candidate = RESULTS / (f"{safe}-{stamp}" if suffix == 1 else f"{safe}-{stamp}-{suffix}")
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        return candidate
    raise AssertionError("unreachable")  # itertools.count never ends


def guard(folder: Path) -> None:
    """Refuse, force or not, an output folder that holds far more than results: the root, the home folder, the
    current folder and its parents (``--out . --force`` would otherwise replace the folder the user is in)."""
    where = folder.resolve()
    here = Path.cwd().resolve()
    if where == Path(where.anchor):
        reason = "the root folder"
    elif where == here or where in here.parents:
        reason = "the current folder" if where == here else "a parent of the current folder"
    elif where == Path.home().resolve():
        reason = "the home folder"
    else:
        return
    raise UsageError(f"{folder}: --out: is {reason}; sco-sim writes only into a folder of its own, "
                     "choose a new folder")


def occupied(folder: Path, force: bool, hint: str = "choose another folder or pass --force to replace it",
             legacy: Legacy | None = None) -> bool:
    """Whether the output folder already holds something that ``force`` allows to be replaced.

    A folder that holds anything is refused without ``force`` (a UsageError ending in ``hint``), and with it
    unless sco-sim wrote it (:func:`ours`) and it holds nothing else (:func:`strangers`); a file where the folder
    should be, and the places :func:`guard` names, are refused always.
    """
    guard(folder)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder}: --out: exists and is not a folder")
    if folder.exists() and any(folder.iterdir()):
        if not force:
            raise UsageError(f"{folder}: --out: already holds results; {hint}")
        found = inventory(folder, legacy)
        if found is None:
            raise UsageError(f"{folder}: --out: holds files sco-sim did not write; refusing to replace it")
        extra = strangers(folder, found)
        if extra:
            shown = ", ".join(extra[:5]) + (f", and {len(extra) - 5} more" if len(extra) > 5 else "")
            raise UsageError(f"{folder}: --out: holds files sco-sim did not write ({shown}); move them out of it or "
                             "choose another folder; nothing was replaced")
        return True
    return False


def mark(folder: Path, kind: str, owned: Iterable[str] = ()) -> None:
    """Mark ``folder`` as sco-sim's, of ``kind`` (one of :data:`KINDS`), with the files (and folders, ending in
    ``/``; ``/`` itself for all of it) named in ``owned``, relative to it, as sco-sim's (its :class:`Inventory`)."""
    stamp = {"kind": kind, "version": __version__, "created": datetime.now(UTC).isoformat(timespec="seconds"),
             "files": sorted(set(owned))}
    _write_marker(folder, stamp)


def ours(folder: Path, legacy: Legacy | None = None) -> bool:
    """Whether sco-sim wrote ``folder``: it carries a marker of one of :data:`KINDS`, or ``legacy`` says so."""
    return _stamp(folder) is not None or (legacy is not None and folder.is_dir() and legacy(folder))


def _stamp(folder: Path) -> dict[str, Any] | None:
    """The marker in ``folder``, if it is one of sco-sim's."""
    try:
        stamp = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return stamp if isinstance(stamp, dict) and stamp.get("kind") in KINDS else None


def _write_marker(folder: Path, stamp: dict[str, Any]) -> None:
    atomic_text(json.dumps(stamp) + "\n", folder / MARKER)  # atomic_write records nothing for the marker itself


# --- what sco-sim wrote in a folder, and what it did not --------------------------------------------


@dataclass(frozen=True)
class Inventory:
    """What sco-sim wrote in a folder: ``files`` by relative path (POSIX), and ``folders`` it owns whole."""

    files: frozenset[str]
    folders: frozenset[str]

    @classmethod
    def of(cls, entries: Iterable[str]) -> Inventory:
        """From a marker's ``files``: paths of files, and of folders owned whole ending in ``/``."""
        named = [str(entry) for entry in entries]
        return cls(frozenset(e for e in named if not e.endswith("/")),
                   frozenset(e[:-1].strip("/") for e in named if e.endswith("/")))

    def part(self, name: str) -> Inventory:
        """What sco-sim wrote inside the folder ``name`` of this one (all of it, if it owns the folder whole)."""
        if name in self.folders:
            return Inventory(frozenset(), frozenset({""}))
        prefix = f"{name}/"
        return Inventory(frozenset(f[len(prefix):] for f in self.files if f.startswith(prefix)),
                         frozenset(f[len(prefix):] for f in self.folders if f.startswith(prefix)))

    def holds(self, path: str, folder: bool) -> bool | None:
        """Whether ``path`` is sco-sim's: True, False, or (a folder that holds some of its files) None: look inside."""
        if "" in self.folders or path in self.folders or any(path.startswith(f"{f}/") for f in self.folders):
            return True
        if not folder:
            return path in self.files
        return None if any(f.startswith(f"{path}/") for f in self.files) else False


EARLIER = Inventory(EARLIER_FILES, EARLIER_FOLDERS)


def inventory(folder: Path, legacy: Legacy | None = None) -> Inventory | None:
    """What sco-sim wrote in ``folder``, by its marker; by name (:data:`EARLIER`) in a folder of an earlier version
    (a marker without files, or ``legacy`` saying so); None if sco-sim did not write it. A folder inside one of
    sco-sim's (a run's figures) has its part of that one's inventory."""
    stamp = _stamp(folder)
    if stamp is not None:
        return Inventory.of(stamp["files"]) if isinstance(stamp.get("files"), list) else EARLIER
    if legacy is not None and folder.is_dir() and legacy(folder):
        return EARLIER
    outer = inventory(folder.parent) if folder.parent != folder and (folder.parent / MARKER).exists() else None
    return outer.part(folder.name) if outer is not None else None


def strangers(folder: Path, found: Inventory, prefix: str = "") -> list[str]:
    """What ``folder`` holds that sco-sim did not write, by relative path (a folder ending in ``/``, whole), sorted.

    Its marker and what a command cut short left (:data:`_DEBRIS`) are sco-sim's; a symbolic link is taken for a
    file, never followed.
    """
    extra: list[str] = []
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        path = f"{prefix}{entry.name}"
        if (not prefix and entry.name == MARKER) or _DEBRIS.fullmatch(entry.name):
            continue
        inside = entry.is_dir(follow_symlinks=False)
        verdict = found.holds(path, inside)
        if verdict is None:
            extra += strangers(Path(entry.path), found, f"{path}/")
        elif not verdict:
            extra.append(f"{path}/" if inside else path)
    return extra


def record(folder: Path, written: Iterable[str]) -> None:
    """Add what was just written in ``folder`` (paths relative to it) to its marker's inventory; nothing if
    ``folder`` is not marked, or its marker is an earlier version's (which records nothing)."""
    stamp = _stamp(folder)
    if stamp is None or not isinstance(stamp.get("files"), list):
        return
    known = set(stamp["files"])
    if not known.issuperset(written):
        _write_marker(folder, stamp | {"files": sorted(known.union(written))})


def contents(folder: Path) -> list[str]:
    """Every file under ``folder``, by relative path (POSIX), its marker left out."""
    return [path.relative_to(folder).as_posix() for path in folder.rglob("*")
            if (not path.is_dir() or path.is_symlink()) and path != folder / MARKER]


def manifest_says_sco_sim(path: Path, keys: tuple[str, ...]) -> bool:
    """Whether the JSON file ``path`` holds a version string at ``keys`` (how an earlier version's manifest says
    that sco-sim wrote it)."""
    try:
        value: Any = json.loads(path.read_text(encoding="utf-8"))
        for key in keys:
            value = value[key]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return isinstance(value, str) and bool(value)


# --- the hidden siblings: writing beside, swapping in, recovering ------------------------------------


def sibling(folder: Path, tag: str) -> Path:
    """The hidden sibling of ``folder`` with ``tag``, without a random part (:data:`PENDING`)."""
    return folder.parent / f".{folder.name}.{tag}"


def destination(folder: Path) -> Path:
    """The folder that ``folder``, a hidden :data:`PENDING` sibling, is to replace; ``folder`` itself otherwise."""
    name, suffix = folder.name, f".{PENDING}"
    if name.startswith(".") and name.endswith(suffix) and len(name) > len(suffix) + 1:
        return folder.parent / name[1:-len(suffix)]
    return folder


def recover(folder: Path, legacy: Legacy | None = None) -> None:
    """Clear what interrupted commands left beside ``folder``; call it with ``folder``'s lock held.

    If ``folder`` is missing, the newest complete copy set aside (``.NAME.old-*``, an earlier version's
    ``.NAME.replaced``) is put back; every other staging or set-aside sibling that sco-sim wrote is removed, what
    it holds that sco-sim did not write carried into ``folder`` first (:func:`retire`). A pending sweep
    (``.NAME.pending``) is left for ``--resume``.
    """
    if not folder.parent.is_dir():
        return
    prefix = f".{folder.name}."
    leftovers = [p for p in folder.parent.iterdir()
                 if p.name.startswith(prefix) and p.is_dir() and not p.is_symlink()]
    aside = [p for p in leftovers if p.name.startswith(f"{prefix}{OLD}-") or p.name == f"{prefix}{LEGACY_ASIDE}"]
    staged = [p for p in leftovers if p.name.startswith(f"{prefix}{NEW}-")]
    if not folder.exists() and not folder.is_symlink():
        kept = sorted((p for p in aside if ours(p, legacy)), key=lambda p: p.stat().st_mtime)
        if kept:
            os.rename(kept[-1], folder)
            aside.remove(kept[-1])
    for stale in aside + staged:
        found = inventory(stale, legacy)
        if found is not None:
            retire(stale, folder, strangers(stale, found))


def remove(folder: Path) -> None:
    """Remove a folder of sco-sim's, its marker last, so that a removal cut short still shows whose it was."""
    for entry in folder.iterdir():
        if entry.name == MARKER:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    (folder / MARKER).unlink(missing_ok=True)
    folder.rmdir()


def swap_in(staging: Path, out: Path) -> None:
    """Put the complete folder ``staging`` under ``out``, replacing what is there in one step, then remove that,
    keeping what sco-sim did not write there (added since the command checked it, or beside the figures it
    redraws) in the new ``out``."""
    if not out.exists():
        os.rename(staging, out)
        return
    extra = strangers(out, inventory(out) or EARLIER)  # a folder claimed without a marker is an earlier version's
    retire(exchange(staging, out), out, extra)


def retire(old: Path, into: Path, extra: list[str]) -> None:
    """Remove the folder ``old`` of sco-sim's, once what it holds that sco-sim did not write (``extra``, relative
    paths from :func:`strangers`) is moved to the same place in the folder ``into``. What cannot go there (the
    place is taken, or ``into`` is missing) goes to a new visible sibling, ``NAME.kept-XXXXXXXX``: nothing is
    deleted that sco-sim did not write."""
    kept = into.parent / f"{into.name}.kept-{secrets.token_hex(4)}"
    for path in (entry.rstrip("/") for entry in extra):
        source = old / path
        if _identical(source, into / path):
            source.unlink()  # a copy of what is already there (a set-aside copy of the same folder)
            continue
        if not (into.is_dir() and _move(source, into / path)):
            _move(source, kept / path)
    remove(old)


def _move(source: Path, target: Path) -> bool:
    """Rename ``source`` to ``target``, making its folders; False, with nothing moved, if something is in the way."""
    if target.exists() or target.is_symlink():
        return False
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        return False
    os.rename(source, target)
    return True


def _identical(first: Path, second: Path) -> bool:
    """Whether two paths are regular files (not links) with the same bytes."""
    try:
        a, b = first.lstat(), second.lstat()
    except OSError:
        return False
    regular = stat.S_ISREG(a.st_mode) and stat.S_ISREG(b.st_mode) and a.st_size == b.st_size
    return regular and first.read_bytes() == second.read_bytes()


def promote(pending: Path) -> Path:
    """Swap the complete hidden sibling ``pending`` (``.NAME.pending``) in for NAME; return NAME.

    It is renamed to a staging name first, so that the earlier NAME, once swapped out, is never taken for a
    pending replacement (a crash then leaves it where :func:`recover` removes it).
    """
    target = destination(pending)
    staging = target.parent / f".{target.name}.{NEW}-{secrets.token_hex(4)}"
    os.rename(pending, staging)
    swap_in(staging, target)
    return target


def exchange(new: Path, out: Path) -> Path:
    """Swap ``new`` in under ``out`` at once; return where the old ``out`` now is.

    On Linux, ``renameat2(RENAME_EXCHANGE)`` swaps the two names atomically, so the old is at ``new``'s name.
    Where that call is missing or the file system refuses it, the old is renamed aside first; a crash between
    the two renames leaves the old aside, which :func:`recover` puts back.
    """
    if _renameat2 is not None:
        if _renameat2(_AT_FDCWD, os.fsencode(new), _AT_FDCWD, os.fsencode(out), _RENAME_EXCHANGE) == 0:
            return new
        code = ctypes.get_errno()
        if code not in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
            raise OSError(code, os.strerror(code), str(out))
    aside = out.parent / f".{out.name}.{OLD}-{secrets.token_hex(4)}"
    os.rename(out, aside)
    try:
        os.rename(new, out)
    except BaseException:
        os.rename(aside, out)
        raise
    return aside


def _libc_renameat2() -> Callable[..., int] | None:
    try:
        function: Callable[..., int] = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    return function


_AT_FDCWD, _RENAME_EXCHANGE = -100, 2
_renameat2 = _libc_renameat2()


@contextmanager
def staged_folder(out: Path, replace: bool = False, kind: str | None = None) -> Iterator[Path]:
    """A hidden sibling folder to write into, put under ``out`` when the block ends without error.

    Without ``replace``, ``out`` must not exist or be empty (the rename fails rather than merge); with it, an
    earlier ``out`` is swapped out in one step once the new one is complete (:func:`swap_in`). ``kind`` marks
    the folder as sco-sim's (first, so that even a staging folder cut short is known to be ours), and what was
    written into it is recorded as its inventory when the block ends; without ``kind``, ``out`` is a part of the
    folder it is in, whose inventory records it.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.{NEW}-", dir=out.parent))
    try:
        if kind is not None:
            mark(staging, kind, owned=["/"])  # all of it sco-sim's while it is written
        yield staging
        if kind is not None:
            mark(staging, kind, owned=contents(staging))
        else:  # a part of a folder of sco-sim's (a run's figures): recorded in that folder's inventory
            record(out.parent, [f"{out.name}/{path}" for path in contents(staging)])
        if replace and out.exists() and any(out.iterdir()):
            swap_in(staging, out)
        else:
            os.rename(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


# --- the lock -------------------------------------------------------------------------------------


@contextmanager
def lock(folder: Path, command: list[str]) -> Iterator[None]:
    """Hold ``folder`` for this process alone while the block runs; another holder is refused in one line.

    The lock is ``fcntl.flock`` on ``.NAME.lock`` beside the folder, which records the holder (pid, host, command,
    start). A lock file left by a killed command holds no lock and is reused; the file is removed on release,
    and a lock taken on a file just removed is taken again on the new one.
    """
    where = folder.resolve()
    if where == Path(where.anchor):
        raise UsageError(f"{folder}: is the root folder; sco-sim writes only into a folder of its own")
    where.parent.mkdir(parents=True, exist_ok=True)
    path = where.parent / f".{where.name}.lock"
    handle = _take(path, folder)
    try:
        holder = {"pid": os.getpid(), "host": socket.gethostname(), "command": " ".join(command),
                  "since": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
        os.ftruncate(handle, 0)
        os.pwrite(handle, (json.dumps(holder) + "\n").encode(), 0)
        yield
    finally:
        path.unlink(missing_ok=True)
        os.close(handle)


def _take(path: Path, folder: Path) -> int:
    while True:
        handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(handle)
            raise UsageError(f"{folder}: locked by {_holder(path)}; wait for it to finish or stop it") from None
        try:
            same = os.stat(path).st_ino == os.fstat(handle).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return handle
        os.close(handle)  # the holder removed the file as we opened it: take the lock on the new one


def _holder(path: Path) -> str:
    try:
        holder = json.loads(path.read_text(encoding="utf-8"))
        here = "" if holder["host"] == socket.gethostname() else f" on {holder['host']}"
        return f"sco-sim (pid {holder['pid']}{here}, '{holder['command']}', since {holder['since']})"
    except (OSError, ValueError, KeyError, TypeError):
        return "another sco-sim command"


@contextmanager
def claim(folder: Path, force: bool, command: list[str],
          hint: str = "choose another folder or pass --force to replace it",
          legacy: Legacy | None = None) -> Iterator[bool]:
    """Hold the output folder for the block: refuse the places :func:`guard` names, take the lock, recover what
    an interrupted command left, refuse results there unless ``force`` (:func:`occupied`); yield whether the
    folder holds results to be replaced."""
    guard(folder)
    with lock(folder, command):
        recover(folder, legacy)
        yield occupied(folder, force, hint, legacy)


# --- files ----------------------------------------------------------------------------------------


def atomic_write(path: Path, write: Callable[[str], Any]) -> None:
    """Call ``write(temporary_path)``, then move the file to ``path`` in one step; in a folder sco-sim marked, the
    file is recorded in its inventory first (:func:`record`)."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(handle)
    try:
        write(temporary)
        if path.name != MARKER and (path.parent / MARKER).exists():
            record(path.parent, [path.name])
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def atomic_parquet(frame: Any, path: Path) -> None:
    """Write a table to Parquet atomically."""
    def write(temporary: str) -> None:
        with open(temporary, "wb") as file:  # opened here: Arrow opens only paths that are UTF-8 text
            frame.to_parquet(file, index=False)

    atomic_write(path, write)


def atomic_text(text: str, path: Path) -> None:
    """Write a text file atomically."""
    atomic_write(path, lambda temporary: Path(temporary).write_text(text, encoding="utf-8"))
