"""The analysis kinds as the CLI catalogue and the CRD generator see them; names and columns are Argo's."""

from __future__ import annotations

from dataclasses import replace

from analysis.models import AnalysisRun, AnalysisTemplate, ClusterAnalysisTemplate
from analysis.validation import validate_analysis_run, validate_analysis_template
from kube import resources
from kube.kinds import AGE_COLUMN, KindSpec, phase_columns, resource_names

ANALYSIS_TEMPLATE = KindSpec.for_resource(
    resources.ANALYSIS_TEMPLATES,
    model=AnalysisTemplate,
    validate=validate_analysis_template,
    printer_columns=(AGE_COLUMN,),
    # Templates are only read: nothing ever writes a status to them.
    has_status=False,
    description="AnalysisTemplate holds the template for performing canary analysis",
)

# The same template, served cluster-wide so that Rollouts in any namespace can use it.
CLUSTER_ANALYSIS_TEMPLATE = replace(
    ANALYSIS_TEMPLATE,
    **resource_names(resources.CLUSTER_ANALYSIS_TEMPLATES),
    model=ClusterAnalysisTemplate,
    description="ClusterAnalysisTemplate holds the template for performing canary analysis in any namespace",
)

ANALYSIS_RUN = KindSpec.for_resource(
    resources.ANALYSIS_RUNS,
    model=AnalysisRun,
    validate=validate_analysis_run,
    printer_columns=phase_columns("AnalysisRun"),
    description="AnalysisRun is an instantiation of an AnalysisTemplate",
)

KINDS: tuple[KindSpec, ...] = (ANALYSIS_TEMPLATE, CLUSTER_ANALYSIS_TEMPLATE, ANALYSIS_RUN)
