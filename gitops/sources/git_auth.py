"""The environment a ``git`` process authenticates with, built from a repository's credentials.

Secrets travel only through places ``ps`` does not show: the password through the environment of an askpass helper
(git runs it when the server asks), an SSH key through a 0600 file named in ``GIT_SSH_COMMAND``. ``insecure`` turns
off TLS verification (``http.sslVerify=false``, given as ``GIT_CONFIG_*`` variables) and SSH host key checking.
Everything written is removed when the ``with`` block ends.
"""

from __future__ import annotations

import os
import shlex
import stat
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from gitops.sources.credentials import RepositoryCredentials

USERNAME_VARIABLE = "ROLLOUTS_GIT_USERNAME"
PASSWORD_VARIABLE = "ROLLOUTS_GIT_PASSWORD"

# git asks "Username for 'https://host': " and then "Password for 'https://user@host': ".
_ASKPASS_SCRIPT = f"""#!/bin/sh
case "$1" in
  Username*) printf '%s\\n' "${USERNAME_VARIABLE}" ;;
  *) printf '%s\\n' "${PASSWORD_VARIABLE}" ;;
esac
"""


def base_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The process environment for git: the user's (so their git config — ``insteadOf`` rules, ``core.sshCommand``
    — applies), never prompting on a terminal, and with English messages so errors read the same everywhere. (git
    runs without a controlling terminal, so ssh cannot prompt either.)"""
    env = dict(os.environ if environ is None else environ)
    env["GIT_TERMINAL_PROMPT"] = "0"
    env["LC_ALL"] = "C"
    return env


def _add_config(env: dict[str, str], key: str, value: str) -> None:
    """Add one ``git -c key=value`` through the environment (git ≥ 2.31), after any the user already set."""
    count = int(env.get("GIT_CONFIG_COUNT", "0") or "0")
    env[f"GIT_CONFIG_KEY_{count}"] = key
    env[f"GIT_CONFIG_VALUE_{count}"] = value
    env["GIT_CONFIG_COUNT"] = str(count + 1)


@contextmanager
def git_environment(
    credentials: RepositoryCredentials | None, environ: Mapping[str, str] | None = None
) -> Iterator[dict[str, str]]:
    """The environment for git commands against a repository with these credentials."""
    env = base_environment(environ)
    if credentials is None:
        yield env
        return
    with tempfile.TemporaryDirectory(prefix="rollouts-git-auth-") as scratch:
        directory = Path(scratch)
        directory.chmod(stat.S_IRWXU)
        ssh_options = ["-o", "BatchMode=yes"]
        if credentials.insecure:
            _add_config(env, "http.sslVerify", "false")
            ssh_options += ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"]
        if credentials.username or credentials.password:
            askpass = directory / "askpass.sh"
            askpass.write_text(_ASKPASS_SCRIPT)
            askpass.chmod(stat.S_IRWXU)
            env["GIT_ASKPASS"] = str(askpass)
            env.pop("SSH_ASKPASS", None)
            env[USERNAME_VARIABLE] = credentials.username or ""
            env[PASSWORD_VARIABLE] = credentials.password or ""
            # The user's credential helpers would be asked first and might store the password on disk.
            _add_config(env, "credential.helper", "")
        if credentials.ssh_private_key:
            key = directory / "id"
            descriptor = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
            with os.fdopen(descriptor, "w") as handle:
                text = credentials.ssh_private_key
                handle.write(text if text.endswith("\n") else text + "\n")
            ssh_options += ["-i", str(key), "-o", "IdentitiesOnly=yes"]
        env["GIT_SSH_COMMAND"] = shlex.join(["ssh", *ssh_options])
        yield env
