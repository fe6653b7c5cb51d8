"""The environment git authenticates with: secrets only in an askpass helper's environment and a 0600 key file,
never in arguments; everything removed afterwards."""

from __future__ import annotations

import os
import shlex
import stat
import subprocess
from pathlib import Path

from gitops.sources.credentials import RepositoryCredentials
from gitops.sources.git_auth import git_environment


def config_entries(env: dict[str, str]) -> dict[str, str]:
    count = int(env.get("GIT_CONFIG_COUNT", "0"))
    return {env[f"GIT_CONFIG_KEY_{i}"]: env[f"GIT_CONFIG_VALUE_{i}"] for i in range(count)}


def test_without_credentials_git_never_prompts() -> None:
    with git_environment(None, {"PATH": "/usr/bin"}) as env:
        assert env["GIT_TERMINAL_PROMPT"] == "0"
        assert "GIT_ASKPASS" not in env


def test_askpass_answers_username_and_password_from_its_environment() -> None:
    creds = RepositoryCredentials(url="https://h/x", username="alice", password="pa ss'word")
    with git_environment(creds, {"PATH": os.environ["PATH"]}) as env:
        askpass = env["GIT_ASKPASS"]
        assert "pa ss'word" not in Path(askpass).read_text()  # the script reads it from the environment
        ask = [askpass]
        user = subprocess.run([*ask, "Username for 'https://h': "], env=env, capture_output=True, text=True)
        password = subprocess.run([*ask, "Password for 'https://alice@h': "], env=env, capture_output=True, text=True)
        assert (user.stdout, password.stdout) == ("alice\n", "pa ss'word\n")
        assert config_entries(env) == {"credential.helper": ""}
    assert not Path(askpass).exists()


def test_ssh_key_goes_to_a_private_file_named_by_git_ssh_command() -> None:
    creds = RepositoryCredentials(url="git@h:x", ssh_private_key="-----BEGIN KEY-----\nabc\n-----END KEY-----")
    with git_environment(creds, {}) as env:
        command = shlex.split(env["GIT_SSH_COMMAND"])
        key = Path(command[command.index("-i") + 1])
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        assert key.read_text().endswith("-----END KEY-----\n")
        assert "abc" not in env["GIT_SSH_COMMAND"]
        assert "StrictHostKeyChecking=no" not in command
    assert not key.exists()


def test_insecure_turns_off_tls_verification_and_host_key_checks() -> None:
    creds = RepositoryCredentials(url="https://h/x", insecure=True)
    with git_environment(creds, {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "a.b", "GIT_CONFIG_VALUE_0": "c"}) as env:
        assert config_entries(env) == {"a.b": "c", "http.sslVerify": "false"}  # after the user's own entries
        assert "StrictHostKeyChecking=no" in shlex.split(env["GIT_SSH_COMMAND"])
