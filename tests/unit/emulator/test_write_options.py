"""Write options (sandbox/emulator/write_options.py) as the API server validates them: PatchOptions needs a
fieldManager for apply and refuses force elsewhere; dryRun takes only "All"; the manager defaults to the
User-Agent's product."""

from __future__ import annotations

import pytest

from sandbox.emulator.status import ApiError
from sandbox.emulator.write_options import WriteOptions, write_options

KUBECTL_AGENT = "kubectl-client-side-apply/v1.32.0 (linux/amd64) kubernetes/abcdef0"


@pytest.mark.parametrize(("verb", "params", "apply", "expected"), [
    ("create", {}, False, WriteOptions(False, "kubectl-client-side-apply", False)),
    ("create", {"dryRun": "All"}, False, WriteOptions(True, "kubectl-client-side-apply", False)),
    ("patch", {"fieldManager": "me"}, False, WriteOptions(False, "me", False)),
    ("patch", {"fieldManager": "me", "force": "true"}, True, WriteOptions(False, "me", True)),
    ("patch", {"fieldManager": "me", "force": "false", "dryRun": "All"}, True, WriteOptions(True, "me", False)),
])
def test_valid_options(verb: str, params: dict[str, str], apply: bool, expected: WriteOptions) -> None:
    assert write_options(verb, params, KUBECTL_AGENT, apply=apply) == expected


@pytest.mark.parametrize(("verb", "params", "apply", "kind", "field"), [
    ("patch", {}, True, "PatchOptions", "fieldManager"),
    ("patch", {"force": "true"}, False, "PatchOptions", "force"),
    ("create", {"dryRun": "Some"}, False, "CreateOptions", "dryRun"),
    ("update", {"dryRun": ""}, False, "UpdateOptions", "dryRun"),
    ("delete", {"dryRun": "all"}, False, "DeleteOptions", "dryRun"),
    ("create", {"fieldManager": "x" * 129}, False, "CreateOptions", "fieldManager"),
    ("create", {"fieldManager": "tab\there"}, False, "CreateOptions", "fieldManager"),
])
def test_invalid_options_are_422_naming_the_option(verb: str, params: dict[str, str], apply: bool, kind: str,
                                                   field: str) -> None:
    with pytest.raises(ApiError) as info:
        write_options(verb, params, KUBECTL_AGENT, apply=apply)
    status = info.value.to_status()
    assert (status["code"], status["reason"], status["details"]["kind"]) == (422, "Invalid", kind)
    assert status["details"]["causes"][0]["field"] == field


def test_unreadable_force_is_bad_request() -> None:
    with pytest.raises(ApiError) as info:
        write_options("patch", {"fieldManager": "me", "force": "yes"}, None, apply=True)
    assert info.value.code == 400
