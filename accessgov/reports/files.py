"""Writing an export to a file: private (0600), never through a link, never half-written."""

from __future__ import annotations

import errno
import os

from accessgov.errors import InputError

# Where an export goes, as the user typed it or as a Path (os.path takes either).
FilePath = str | os.PathLike[str]


def write_private(path: FilePath, text: str) -> None:
    """Write an export 0600 (it names people and their access), whatever was at `path`.

    An existing file is made 0600 before it is emptied. A symbolic link is refused, not
    followed (it could lead anywhere), and so is anything but a regular file (a device, a
    pipe). Every failure is one plain InputError; a file left half-written is emptied.
    """
    if os.path.islink(path):
        raise InputError(f"cannot write {path}: it is a symbolic link; give the file's real path")
    if os.path.lexists(path) and not os.path.isfile(path):
        raise InputError(f"cannot write {path}: it is not a regular file")
    existed = os.path.lexists(path)
    flags = (os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
             | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    try:
        fd = os.open(path, flags, 0o600)
    except OSError as error:
        raise _cannot_write(path, error) from None
    try:
        _make_private_and_empty(path, fd)
        with os.fdopen(os.dup(fd), "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
    except OSError as error:
        _discard(path, fd, existed)
        raise _cannot_write(path, error) from None
    except BaseException:
        _discard(path, fd, existed)
        raise
    os.close(fd)


def _make_private_and_empty(path: FilePath, fd: int) -> None:
    """Checked on the open file itself, so nothing can be swapped in after the checks."""
    import stat

    if not stat.S_ISREG(os.fstat(fd).st_mode):
        raise InputError(f"cannot write {path}: it is not a regular file")
    if hasattr(os, "fchmod"):
        os.fchmod(fd, 0o600)
    os.set_blocking(fd, True)
    os.ftruncate(fd, 0)


def _discard(path: FilePath, fd: int, existed: bool) -> None:
    """Leave no half-written export: remove a file we made, empty one that was there."""
    try:
        if existed:
            os.ftruncate(fd, 0)
        else:
            os.unlink(path)
    except OSError:
        pass
    finally:
        os.close(fd)


_WRITE_PROBLEMS = {
    errno.ENOENT: "its folder does not exist",
    errno.ENOTDIR: "its folder does not exist",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EISDIR: "it is a folder",
    errno.ELOOP: "it is a symbolic link; give the file's real path",
    errno.EROFS: "the disk is read-only",
    errno.ENXIO: "it is not a regular file",
}


def _cannot_write(path: FilePath, error: OSError) -> InputError:
    problem = _WRITE_PROBLEMS.get(error.errno or 0, error.strerror or "it could not be written")
    return InputError(f"cannot write {path}: {problem}")
