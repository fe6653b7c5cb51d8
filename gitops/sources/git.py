"""Git repositories through the ``git`` CLI: refs resolved with ``ls-remote``, commits fetched shallowly into one
bare repository per URL, and read-only checkouts per commit.

Layout under the cache directory: ``git/<hash of the normalised URL>/`` holds ``repo.git`` (bare), ``lock`` (the
per-repository lock) and ``checkouts/<sha>/`` (one extracted tree per commit, never written again). Every git process
has a timeout and runs in its own process group, so a hung transport (an SSH prompt, a dead server) is killed whole.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import stat
import subprocess
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from gitops.sources.credentials import RepositoryCredentials
from gitops.sources.errors import SourceError
from gitops.sources.git_auth import git_environment
from gitops.sources.locks import repository_lock
from gitops.sources.urls import cache_key, is_full_sha, may_be_short_sha, normalize_git_url

GIT = "git"
ALL_REFS = ("+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*")


def split_userinfo(url: str) -> tuple[str, str | None, str | None]:
    """``https://user:pw@host/x`` → (``https://host/x``, user, pw): what is written before ``@`` moves out of an
    HTTP URL (a token is often given as the user name) so it never reaches a command line; for other schemes only
    the password moves and the login name stays (ssh needs it)."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme in ("file",):
        return url, None, None
    authority, slash, path = rest.partition("/")
    userinfo, at, host = authority.rpartition("@")
    if not at:
        return url, None, None
    user, colon, password = userinfo.partition(":")
    if scheme in ("http", "https"):
        return f"{scheme}://{host}{slash}{path}", user or None, password or None
    if not colon:
        return url, user or None, None
    return f"{scheme}://{user}@{host}{slash}{path}", user or None, password or None


def parse_ls_remote(output: str) -> dict[str, str]:
    """``ls-remote`` lines (``<sha>\\t<ref>``) as ref → commit SHA, annotated tags peeled to their commit."""
    refs: dict[str, str] = {}
    peeled: dict[str, str] = {}
    for line in output.splitlines():
        sha, _, ref = line.partition("\t")
        if not ref:
            continue
        if ref.endswith("^{}"):
            peeled[ref[: -len("^{}")]] = sha
        else:
            refs[ref] = sha
    refs.update(peeled)
    return refs


def revision_from_refs(refs: Mapping[str, str], revision: str) -> str | None:
    """The commit a ``targetRevision`` names among a remote's refs, as Argo CD reads it: ``HEAD`` (or empty) is
    the remote's HEAD; otherwise a full ref name, then a branch, then a tag of that name."""
    if revision in ("", "HEAD"):
        return refs.get("HEAD")
    for candidate in (revision, f"refs/heads/{revision}", f"refs/tags/{revision}"):
        if candidate.startswith("refs/") and candidate in refs:
            return refs[candidate]
    return None


class GitRepositories:
    """The Git side of the repo server: resolve, fetch, check out, compare, list and read."""

    def __init__(
        self,
        cache_dir: Path,
        *,
        timeout: float = 60.0,
        environ: Mapping[str, str] | None = None,
        refs_max_age: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.cache_dir = Path(cache_dir) / "git"
        self.timeout = timeout
        self.environ = environ
        # Argo CD's repo-server keeps ls-remote answers for a while (its revision cache) so that many
        # Applications on one repository cost one request per period; 0 asks every time.
        self.refs_max_age = refs_max_age
        self._clock = clock
        self._refs: dict[str, tuple[float, dict[str, str]]] = {}
        self._refs_lock = threading.Lock()
        #: git processes started, by first argument (``ls-remote``, ``fetch``, …): for metrics and tests.
        self.requests: dict[str, int] = {}

    # --- running git ------------------------------------------------------------------------------------------

    def _run(
        self,
        url: str,
        args: Sequence[str],
        credentials: RepositoryCredentials | None,
        *,
        git_dir: Path | None = None,
    ) -> bytes:
        plain_url, user, password = split_userinfo(url)
        creds = _with_url_secrets(credentials, url, user, password)
        command = [GIT]
        if git_dir is not None:
            command += ["--git-dir", str(git_dir)]
        command += [arg if arg != url else plain_url for arg in args]
        secrets = creds.secrets if creds else ()
        self.requests[args[0]] = self.requests.get(args[0], 0) + 1
        with git_environment(creds, self.environ) as env:
            try:
                process = subprocess.Popen(
                    command,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    env=env,
                    start_new_session=True,  # a process group of its own, to kill ssh/remote helpers with it
                )
            except OSError as error:
                raise SourceError(url, f"cannot run git: {error.strerror}") from None
            try:
                stdout, stderr = process.communicate(timeout=self.timeout)
            except subprocess.TimeoutExpired:
                _kill_group(process)
                raise SourceError(
                    url, f"git {args[0]} timed out after {self.timeout:g}s", secrets=secrets
                ) from None
        if process.returncode != 0:
            message = stderr.decode("utf-8", "replace").strip() or f"git {args[0]} exited {process.returncode}"
            raise SourceError(url, f"git {args[0]} failed: {message}", secrets=secrets)
        return stdout

    # --- cache layout -----------------------------------------------------------------------------------------

    def _home(self, url: str) -> Path:
        return self.cache_dir / cache_key(url)

    def _bare(self, url: str, credentials: RepositoryCredentials | None) -> Path:
        """The bare repository for ``url``, created when missing (call with the repository lock held)."""
        bare = self._home(url) / "repo.git"
        if not (bare / "HEAD").is_file():
            bare.parent.mkdir(parents=True, exist_ok=True)
            self._run(url, ["init", "--bare", "--quiet", str(bare)], None)
        return bare

    def _has_commit(self, url: str, bare: Path, sha: str) -> bool:
        try:
            self._run(url, ["cat-file", "-e", f"{sha}^{{commit}}"], None, git_dir=bare)
        except SourceError:
            return False
        return True

    # --- the operations ---------------------------------------------------------------------------------------

    def ls_remote(
        self, url: str, credentials: RepositoryCredentials | None, *, fresh: bool = False
    ) -> dict[str, str]:
        """Every ref of the remote with the commit it points to (an answer younger than ``refs_max_age`` is
        reused unless ``fresh``)."""
        key = normalize_git_url(url)
        now = self._clock()
        with self._refs_lock:
            cached = self._refs.get(key)
        if cached is not None and not fresh and now - cached[0] < self.refs_max_age:
            return dict(cached[1])
        output = self._run(url, ["ls-remote", url], credentials)
        refs = parse_ls_remote(output.decode("utf-8", "replace"))
        if self.refs_max_age > 0:
            with self._refs_lock:
                self._refs[key] = (now, refs)
        return dict(refs)

    def forget_refs(self, url: str) -> None:
        """Drop the remembered refs of ``url`` (a push webhook said they changed)."""
        with self._refs_lock:
            self._refs.pop(normalize_git_url(url), None)

    def resolve(
        self, url: str, revision: str, credentials: RepositoryCredentials | None, *, fresh: bool = False
    ) -> str:
        """The full commit SHA ``revision`` names: a branch, a tag, ``HEAD``/empty, or a full or short SHA."""
        revision = revision.strip()
        if is_full_sha(revision.lower()):
            return revision.lower()
        refs = self.ls_remote(url, credentials, fresh=fresh)
        sha = revision_from_refs(refs, revision)
        if sha is not None:
            return sha
        if may_be_short_sha(revision.lower()):
            return self._resolve_short_sha(url, revision.lower(), credentials)
        raise SourceError(url, f"unable to resolve '{revision}' to a commit SHA: no such branch or tag")

    def _resolve_short_sha(self, url: str, prefix: str, credentials: RepositoryCredentials | None) -> str:
        """An abbreviated SHA names no ref: fetch every branch and tag with history, then ask git."""
        with repository_lock(self._home(url) / "lock"):
            bare = self._bare(url, credentials)
            self._fetch_all(url, bare, credentials)
            try:
                output = self._run(
                    url, ["rev-parse", "--verify", "--quiet", f"{prefix}^{{commit}}"], None, git_dir=bare
                )
            except SourceError:
                raise SourceError(url, f"unable to resolve '{prefix}' to a commit SHA") from None
            return output.decode().strip()

    def _fetch_all(self, url: str, bare: Path, credentials: RepositoryCredentials | None) -> None:
        unshallow = ["--unshallow"] if (bare / "shallow").exists() else []
        self._run(url, ["fetch", "--quiet", "--force", *unshallow, url, *ALL_REFS], credentials, git_dir=bare)

    def _ensure_commit(self, url: str, bare: Path, sha: str, credentials: RepositoryCredentials | None) -> None:
        """Fetch ``sha`` (only that commit, depth 1) unless the cache has it; fall back to every ref with history
        for servers that refuse a want of an arbitrary commit. Call with the repository lock held."""
        if self._has_commit(url, bare, sha):
            return
        keep = f"+{sha}:refs/commits/{sha}"  # a ref, so a later gc keeps the commit
        try:
            self._run(url, ["fetch", "--quiet", "--depth=1", "--no-tags", url, keep], credentials, git_dir=bare)
        except SourceError as shallow_error:
            try:
                self._fetch_all(url, bare, credentials)
            except SourceError:
                raise shallow_error from None
        if not self._has_commit(url, bare, sha):
            raise SourceError(url, f"commit {sha} not found in the repository")

    def checkout(self, url: str, sha: str, credentials: RepositoryCredentials | None) -> Path:
        """A read-only directory holding the tree of commit ``sha`` (fetched when needed)."""
        home = self._home(url)
        target = home / "checkouts" / sha
        if (target / ".complete").exists():
            return target / "tree"
        with repository_lock(home / "lock"):
            if (target / ".complete").exists():
                return target / "tree"
            bare = self._bare(url, credentials)
            self._ensure_commit(url, bare, sha, credentials)
            archive = self._run(url, ["archive", "--format=tar", sha], None, git_dir=bare)
            target.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{sha}-", dir=target.parent))
            try:
                _extract(url, archive, staging / "tree")
                _make_read_only(staging / "tree")
                (staging / ".complete").touch()
                if target.exists():
                    shutil.rmtree(target, onerror=_force_remove)
                staging.rename(target)
            finally:
                if staging.exists():
                    shutil.rmtree(staging, onerror=_force_remove)
        return target / "tree"

    def changed_files(
        self, url: str, old: str, new: str, credentials: RepositoryCredentials | None
    ) -> list[str]:
        """The paths that differ between two commits (added, removed, modified, both sides of a rename)."""
        with repository_lock(self._home(url) / "lock"):
            bare = self._bare(url, credentials)
            self._ensure_commit(url, bare, old, credentials)
            self._ensure_commit(url, bare, new, credentials)
            output = self._run(
                url, ["diff", "--name-only", "--no-renames", "-z", old, new], None, git_dir=bare
            )
        return sorted(name for name in output.decode("utf-8", "replace").split("\0") if name)


def _with_url_secrets(
    credentials: RepositoryCredentials | None, url: str, user: str | None, password: str | None
) -> RepositoryCredentials | None:
    """Credentials written into the URL itself serve when no Secret gives any."""
    moved = url != split_userinfo(url)[0] and (user or password)
    if not moved or (credentials is not None and credentials.has_credentials):
        return credentials
    return RepositoryCredentials(
        url=url, username=user, password=password, insecure=bool(credentials and credentials.insecure)
    )


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.communicate()


def _extract(url: str, archive: bytes, destination: Path) -> None:
    destination.mkdir(parents=True)
    try:
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:") as tar:
            # The "data" filter refuses links that leave the tree, as Argo CD refuses out-of-bounds symlinks.
            tar.extractall(destination, filter="data")
    except tarfile.FilterError as error:
        raise SourceError(url, f"the repository has an out-of-bounds symlink: {error}") from None
    except (tarfile.TarError, OSError) as error:
        raise SourceError(url, f"cannot check out the tree: {error}") from None


def _make_read_only(root: Path) -> None:
    for directory, subdirectories, files in os.walk(root):
        for name in files:
            path = Path(directory, name)
            if not path.is_symlink():
                path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
        for name in subdirectories:
            Path(directory, name).chmod(0o555)
    root.chmod(0o555)


def _force_remove(function: object, path: str, _: object) -> None:
    """rmtree's error hook: read-only directories need write permission back before their entries go."""
    Path(path).parent.chmod(0o755)
    if Path(path).is_dir() and not Path(path).is_symlink():
        Path(path).chmod(0o755)
        shutil.rmtree(path, onerror=_force_remove)
    else:
        Path(path).unlink(missing_ok=True)
