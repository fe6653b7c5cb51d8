"""Reading manifests: every document with its position in the file, and a clear problem for each one that is
not a Kubernetes object."""

from __future__ import annotations

from pathlib import Path

import pytest

from kube.manifests import (
    LoadedDocument,
    ManifestReadError,
    describe,
    load_file,
    load_manifests,
    load_text,
    manifest_files,
)

SERVICE = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n"
CONFIG_MAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n"


def loaded(text: str) -> list[LoadedDocument]:
    return list(load_text(text, "test.yaml"))


def test_documents_come_with_their_position() -> None:
    documents = loaded(f"{SERVICE}---\n{CONFIG_MAP}")
    assert [(d.doc_index, d.manifest and d.manifest["kind"]) for d in documents] == [
        (0, "Service"),
        (1, "ConfigMap"),
    ]
    assert all(d.problem is None and d.path == Path("test.yaml") for d in documents)


def test_empty_documents_are_skipped_but_keep_their_position() -> None:
    text = f"---\n# only a comment\n---\n{SERVICE}---\n---\n{CONFIG_MAP}---\n"
    assert [d.doc_index for d in loaded(text)] == [1, 3]


def test_comments_before_the_first_separator_are_not_a_document() -> None:
    text = f"# AnalysisTemplates used by the examples\n\n---\n{SERVICE}"
    assert [d.doc_index for d in loaded(text)] == [0]


def test_empty_file_has_no_documents() -> None:
    assert loaded("") == []
    assert loaded("# nothing here\n") == []


def test_syntax_error_names_line_and_column_and_stops_the_file() -> None:
    documents = loaded(f"{SERVICE}---\napiVersion: v1\nkind: ConfigMap\ndata: [a, b\n---\n{CONFIG_MAP}")
    assert [d.doc_index for d in documents] == [0, 1]
    broken = documents[1]
    assert broken.manifest is None
    assert broken.problem is not None
    assert broken.problem.line == 9
    assert broken.problem.column is not None
    assert str(broken.problem).startswith("line 9, column ")
    assert "invalid YAML" in str(broken.problem)


def test_bad_indentation_is_a_syntax_error_at_its_line() -> None:
    (document,) = loaded("apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n   labels: {}\n")
    assert document.problem is not None
    assert (document.problem.line, document.problem.column) == (5, 10)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- apiVersion: v1\n  kind: Service\n", "document is a list, not a mapping with apiVersion and kind"),
        ("just text\n", "document is a string, not a mapping"),
        ("kind: Service\n", "document has no apiVersion"),
        ("apiVersion: v1\n", "document has no kind"),
        ("metadata: {name: x}\n", "document has no apiVersion and no kind"),
        ("apiVersion: v1\nkind: ''\n", "document has no kind"),
        ("apiVersion: 1\nkind: Service\n", "apiVersion must be a string, got 1"),
    ],
)
def test_document_that_is_not_an_object_is_a_problem(text: str, message: str) -> None:
    (document,) = loaded(f"{SERVICE}---\n{text}")[1:]
    assert document.manifest is None
    assert document.problem is not None
    assert message in document.problem.message
    assert document.problem.line == 6  # where the document starts


def test_duplicate_keys_are_a_problem_not_a_silent_overwrite() -> None:
    (document,) = loaded("apiVersion: v1\nkind: ConfigMap\ndata:\n  a: '1'\n  a: '2'\n")
    assert document.problem is not None
    assert "duplicate key 'a'" in str(document.problem)
    assert document.problem.line == 5


def test_merge_keys_may_be_overridden() -> None:
    text = "apiVersion: v1\nkind: ConfigMap\nx: &base {a: '1', b: '1'}\ndata:\n  <<: *base\n  b: '2'\n"
    (document,) = loaded(text)
    assert document.manifest is not None
    assert document.manifest["data"] == {"a": "1", "b": "2"}


def test_timestamps_stay_strings() -> None:
    (document,) = loaded(
        "apiVersion: v1\nkind: Event\nmetadata:\n  name: e\n  creationTimestamp: 2024-05-01T10:00:00Z\n"
        "firstTimestamp: 2024-05-01\n"
    )
    assert document.manifest is not None
    assert document.manifest["metadata"]["creationTimestamp"] == "2024-05-01T10:00:00Z"
    assert document.manifest["firstTimestamp"] == "2024-05-01"


def test_yaml_scalars_otherwise_keep_their_types() -> None:
    (document,) = loaded(
        "apiVersion: v1\nkind: X\nspec: {replicas: 3, paused: true, ratio: 0.5, none: null}\n"
    )
    assert document.manifest is not None
    assert document.manifest["spec"] == {"replicas": 3, "paused": True, "ratio": 0.5, "none": None}


def test_trailing_tabs_are_accepted_as_kubectl_does() -> None:
    (document,) = loaded("apiVersion: v1\t\nkind: Service\t \nmetadata:\t\n  name: web\n")
    assert document.manifest == {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}}


def test_directories_are_searched_recursively_for_yaml(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "deep").mkdir()
    (tmp_path / ".git").mkdir()
    (tmp_path / "a.yaml").write_text(SERVICE)
    (tmp_path / "b" / "c.yml").write_text(SERVICE)
    (tmp_path / "b" / "deep" / "d.YAML").write_text(SERVICE)
    (tmp_path / "b" / "notes.txt").write_text("not yaml")
    (tmp_path / "b" / "values.json").write_text("{}")
    (tmp_path / ".git" / "e.yaml").write_text(SERVICE)
    (tmp_path / ".hidden.yaml").write_text(SERVICE)
    found = [path.relative_to(tmp_path).as_posix() for path in manifest_files([tmp_path])]
    assert found == ["a.yaml", "b/c.yml", "b/deep/d.YAML"]


def test_a_skipped_directory_is_left_out_with_everything_beneath_it(tmp_path: Path) -> None:
    for name in ("a.yaml", "chart/values.yaml", "chart/templates/x.yaml", "other/b.yaml"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(SERVICE)
    found = manifest_files([tmp_path], skip_directory=lambda directory: directory.name == "chart")
    assert [path.relative_to(tmp_path).as_posix() for path in found] == ["a.yaml", "other/b.yaml"]


def test_files_given_by_name_are_read_whatever_their_suffix(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.txt"
    manifest.write_text(SERVICE)
    assert manifest_files([manifest]) == [manifest]


def test_load_manifests_reads_every_file_in_order(tmp_path: Path) -> None:
    (tmp_path / "one.yaml").write_text(f"{SERVICE}---\n{CONFIG_MAP}")
    (tmp_path / "two.yaml").write_text(CONFIG_MAP)
    documents = list(load_manifests([tmp_path]))
    assert [(d.path.name, d.doc_index) for d in documents] == [
        ("one.yaml", 0),
        ("one.yaml", 1),
        ("two.yaml", 0),
    ]


def test_missing_path_raises_read_error(tmp_path: Path) -> None:
    with pytest.raises(ManifestReadError) as error:
        manifest_files([tmp_path / "absent.yaml"])
    assert str(error.value) == f"{tmp_path / 'absent.yaml'}: no such file or directory"


def test_file_that_is_not_utf8_raises_read_error(tmp_path: Path) -> None:
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"apiVersion: v1\nkind: \xff\xfe\n")
    with pytest.raises(ManifestReadError, match="not UTF-8"):
        list(load_file(binary))


def test_describe_names_kind_and_object() -> None:
    assert describe({"kind": "Rollout", "metadata": {"name": "reviews"}}) == "Rollout/reviews"
    assert describe({"kind": "AnalysisRun", "metadata": {"generateName": "run-"}}) == "AnalysisRun/run-"
    assert describe({"kind": "Service"}) == "Service/<unnamed>"
