"""`rollouts lint`: check manifests the way the controllers will read them, before they reach a cluster.

Each finding is one line, ``path:doc-index: Kind/name: field.path: message``, so editors and CI logs can point
at it; a summary goes to stderr. Exit status: 0 when every document is valid, 1 when any is not, 2 when an
input cannot be read at all.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import typer

from cli.lint_sources import SOURCE_FILES, RenderedSource, inside_source_root, render_for_lint, source_roots
from cli.main import app
from kube.kinds import KindSpec
from kube.manifests import (
    LoadedDocument,
    ManifestReadError,
    describe,
    load_file,
    load_text,
    manifest_files,
    read_limited,
)

STDIN = "-"
STDIN_LABEL = "<stdin>"

KindLookup = Callable[[str, str], KindSpec | None]


@dataclass(frozen=True)
class LintFinding:
    """One problem in one document."""

    path: Path | str
    doc_index: int
    message: str
    subject: str | None = None
    warning: bool = False
    """Accepted (as Argo accepts it), but probably not what was meant: printed, and the document stays valid."""

    def __str__(self) -> str:
        where = f"{self.path}:{self.doc_index}"
        message = f"warning: {self.message}" if self.warning else self.message
        return f"{where}: {self.subject}: {message}" if self.subject else f"{where}: {message}"


@dataclass
class LintReport:
    """What a lint pass found: per-document findings, and the counts for the summary."""

    documents: int = 0
    passed_through: int = 0
    invalid_documents: int = 0
    findings: list[LintFinding] = field(default_factory=list)

    @property
    def summary(self) -> str:
        noun = "document" if self.documents == 1 else "documents"
        summary = f"{self.documents} {noun} checked, {self.invalid_documents} with errors"
        warnings = sum(1 for finding in self.findings if finding.warning)
        return f"{summary}, {warnings} warning{'' if warnings == 1 else 's'}" if warnings else summary


def lint_documents(documents: Iterable[LoadedDocument], kind_for: KindLookup, report: LintReport) -> None:
    """Check each document against its kind; kinds ``kind_for`` does not know are counted and passed over."""
    for document in documents:
        report.documents += 1
        findings = _document_findings(document, kind_for, report)
        if any(not finding.warning for finding in findings):
            report.invalid_documents += 1
        report.findings.extend(findings)


def _document_findings(
    document: LoadedDocument, kind_for: KindLookup, report: LintReport
) -> list[LintFinding]:
    manifest = document.manifest
    if manifest is None:
        return [LintFinding(document.path, document.doc_index, str(document.problem))]
    spec = kind_for(manifest["apiVersion"], manifest["kind"])
    if spec is None:
        # Services, Deployments, other custom resources: the API server validates those, not us.
        report.passed_through += 1
        return []
    subject = describe(manifest)
    # Strict decoding, as Argo's lint: a field the kind does not have is an error too (the controllers keep it).
    errors = [
        LintFinding(document.path, document.doc_index, str(issue), subject)
        for issue in spec.check(manifest, strict=True)
    ]
    if errors:
        return errors
    return [
        LintFinding(document.path, document.doc_index, str(issue), subject, warning=True)
        for issue in spec.advice(manifest)
    ]


@app.command("lint")
def lint_command(
    paths: Annotated[
        list[str],
        typer.Argument(
            metavar="PATH...",
            help=(
                "Manifest files, or directories searched recursively for *.yaml and *.yml (Kustomize and Helm "
                "directories are rendered and their output checked); '-' reads stdin."
            ),
            show_default=False,
        ),
    ],
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print only the findings, not the summary line.")
    ] = False,
) -> None:
    """Validate Rollout, analysis and Argo CD manifests; other kinds are passed over."""
    # Imported here so that a kind package failing to import breaks this command only, not the whole CLI.
    from cli.catalogue import kind_for

    report = LintReport()
    unreadable = False
    try:
        sources = [source for given in paths for source in _expand(given)]
    except ManifestReadError as error:
        typer.echo(f"rollouts lint: {error}", err=True)
        raise typer.Exit(2) from None

    for source in sources:
        if isinstance(source, RenderedSource):
            _lint_rendered(source, kind_for, report)
            continue
        try:
            documents = (
                list(load_text(read_limited(sys.stdin, STDIN_LABEL), STDIN_LABEL))
                if source == STDIN
                else list(load_file(source))
            )
        except ManifestReadError as error:
            typer.echo(f"rollouts lint: {error}", err=True)
            unreadable = True
            continue
        lint_documents(documents, kind_for, report)

    for finding in report.findings:
        typer.echo(str(finding))
    if not quiet:
        typer.echo(report.summary, err=True)
    if unreadable:
        raise typer.Exit(2)
    if report.invalid_documents:
        raise typer.Exit(1)


def _lint_rendered(source: RenderedSource, kind_for: KindLookup, report: LintReport) -> None:
    """Lint what a Kustomize or Helm directory renders to; a render error is one finding, a skip one note."""
    if source.note is not None:
        typer.echo(f"rollouts lint: note: {source.label}: {source.note}", err=True)
        return
    if source.error is not None:
        report.documents += 1
        report.invalid_documents += 1
        report.findings.append(LintFinding(source.label, 0, source.error))
        return
    documents = [
        LoadedDocument(Path(source.label), position, manifest) for position, manifest in enumerate(source.manifests)
    ]
    lint_documents(documents, kind_for, report)


def _expand(given: str) -> list[Path | str | RenderedSource]:
    """The inputs one argument names: stdin, a file, or a directory's plain manifest files and its Kustomize and
    Helm directories rendered (a kustomization or Chart.yaml given as a file stands for its directory)."""
    if given == STDIN:
        return [STDIN]
    path = Path(given)
    if path.is_file() and path.name in SOURCE_FILES:
        return [render_for_lint(path.parent, path.parent)]
    if not path.is_dir():
        return list(manifest_files([given]))
    roots = source_roots(path)
    plain: list[Path | str | RenderedSource] = list(
        manifest_files([given], skip_directory=lambda directory: inside_source_root(directory, roots))
    )
    if path in roots:
        plain = []  # the argument itself is rendered; its files are the render's inputs
    return [*plain, *(render_for_lint(root, path) for root in roots)]
