"""Argo's rules for an Experiment's spec (its VerifyExperimentSpec), as field issues."""

from __future__ import annotations

from kube.issues import FieldIssue
from rollouts.experiments.models import Experiment


def validate_experiment(experiment: Experiment) -> list[FieldIssue]:
    """What Argo refuses in an Experiment: no templates, a template without a name or with a name used twice, a
    selector that selects everything or not the template's own pods, negative sizes."""
    spec = experiment.spec
    issues: list[FieldIssue] = []
    if not spec.templates:
        issues.append(FieldIssue("spec.templates", "must name at least one template"))
    seen: set[str] = set()
    for index, template in enumerate(spec.templates):
        path = f"spec.templates[{index}]"
        if not template.name:
            issues.append(FieldIssue(f"{path}.name", "must not be empty"))
        elif template.name in seen:
            issues.append(FieldIssue(f"{path}.name", f"template name '{template.name}' is repeated"))
        seen.add(template.name)
        if template.replicas is not None and template.replicas < 0:
            issues.append(FieldIssue(f"{path}.replicas", "must not be negative"))
        match_labels = template.selector.match_labels or {}
        if not match_labels and not template.selector.match_expressions:
            issues.append(FieldIssue(f"{path}.selector", "selects all pods; give it matchLabels"))
        metadata = template.template.get("metadata")
        labels = metadata.get("labels") if isinstance(metadata, dict) else None
        labels = labels if isinstance(labels, dict) else {}
        for key, value in match_labels.items():
            if labels.get(key) != value:
                issues.append(
                    FieldIssue(f"{path}.selector", f"does not match the template's labels ({key}={value})")
                )
                break
    analysis_names: set[str] = set()
    for index, analysis in enumerate(spec.analyses):
        if analysis.name in analysis_names:
            issues.append(FieldIssue(f"spec.analyses[{index}].name", f"analysis name '{analysis.name}' is repeated"))
        analysis_names.add(analysis.name)
    if spec.progress_deadline_seconds is not None and spec.progress_deadline_seconds <= 0:
        issues.append(FieldIssue("spec.progressDeadlineSeconds", "must be positive"))
    if spec.scale_down_delay_seconds is not None and spec.scale_down_delay_seconds < 0:
        issues.append(FieldIssue("spec.scaleDownDelaySeconds", "must not be negative"))
    return issues
