"""The maintainers' Node tools (axe-core, Lighthouse, …), pinned in build_scripts/tools/npm/package-lock.json.

`ensure(settings)` installs them with `npm ci` into `settings.work / "npm"` (a copy of package.json and
the lock file beside `node_modules/`) and returns that `node_modules` folder. It installs again only when
the lock file changed: a stamp file holds the sha256 of the lock it installed. A file lock keeps two
processes (a test session and `portal audit`) from installing into the same folder at once. The
repository's top level stays Python's: no package.json there.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import shutil
import subprocess
from pathlib import Path

from ..errors import UsageError
from ..settings import Settings

PACKAGE = Path(__file__).resolve().parent / "npm"  # package.json and package-lock.json
FILES = ("package.json", "package-lock.json")
STAMP = ".installed-lock-sha256"
MISSING = "node and npm are needed for the audit tools and the accessibility tests (Debian: apt-get install nodejs npm)"


def node() -> str:
    """The node executable; a UsageError when Node is not installed."""
    found = shutil.which("node")
    if not found or not shutil.which("npm"):
        raise UsageError(MISSING)
    return found


def lock_hash() -> str:
    return hashlib.sha256(b"".join((PACKAGE / name).read_bytes() for name in FILES)).hexdigest()


@contextlib.contextmanager
def locked(folder: Path):
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def ensure(settings: Settings) -> Path:
    """node_modules with the pinned packages, installed with `npm ci` when missing or when the lock changed."""
    node()
    folder = settings.work / "npm"
    modules, stamp, wanted = folder / "node_modules", folder / STAMP, lock_hash()
    with locked(folder):
        if modules.is_dir() and stamp.exists() and stamp.read_text(encoding="utf-8").strip() == wanted:
            return modules
        stamp.unlink(missing_ok=True)  # a half-finished install is never taken for a good one
        for name in FILES:
            shutil.copyfile(PACKAGE / name, folder / name)
        # no install scripts (none of the tools needs one); audit and fund notices are noise here
        cmd = [shutil.which("npm") or "npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"]
        proc = subprocess.run(cmd, cwd=folder, capture_output=True, text=True)
        if proc.returncode != 0:
            last = (proc.stderr.strip() or proc.stdout.strip() or "no output").splitlines()[-1]
            raise UsageError(f"npm ci failed in {settings.rel(folder)} (exit {proc.returncode}): {last}")
        stamp.write_text(wanted + "\n", encoding="utf-8")
    return modules


def package_file(settings: Settings, relative: str) -> Path:
    """A file of an installed package, e.g. 'axe-core/axe.min.js' (installing first when needed)."""
    path = ensure(settings) / relative
    if not path.is_file():
        raise UsageError(f"{relative} is not in the installed Node packages; is it pinned in {PACKAGE / 'package.json'}?")
    return path
