"""deploy/Dockerfile, checked without a Docker engine: what the image is built from, who it runs as, what it runs, and
the hadolint rules that apply to it — plus setuptools run on exactly the files the Dockerfile copies, so a package
left out of the COPY lines fails here rather than in a cluster.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import yaml

REPO: Final = Path(__file__).resolve().parents[2]
DOCKERFILE: Final = REPO / "deploy" / "Dockerfile"
DOCKERIGNORE: Final = REPO / ".dockerignore"
PYPROJECT: Final = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
METRICS_PORT: Final = 8090


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case
    arguments: str  # continuation lines joined
    stage: int  # index of the FROM it belongs to; -1 before the first


def parse_dockerfile(text: str) -> list[Instruction]:
    """The instructions, with backslash continuations joined and comments dropped (the default escape ``\\``)."""
    instructions: list[Instruction] = []
    stage = -1
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue  # a comment inside a continued instruction
        if line.endswith("\\"):
            pending += line[:-1].rstrip() + " "
            continue
        full = (pending + line).strip()
        pending = ""
        keyword, _, arguments = full.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            stage += 1
        instructions.append(Instruction(keyword, arguments.strip(), stage))
    assert not pending, "the Dockerfile ends inside a continued line"
    return instructions


INSTRUCTIONS: Final = parse_dockerfile(DOCKERFILE.read_text(encoding="utf-8"))


def arg_defaults() -> dict[str, str]:
    """Global ARGs (before the first FROM) with their defaults."""
    defaults: dict[str, str] = {}
    for instruction in INSTRUCTIONS:
        if instruction.keyword == "ARG" and instruction.stage == -1:
            name, _, value = instruction.arguments.partition("=")
            defaults[name] = value.strip('"')
    return defaults


def stages() -> list[tuple[str, str | None]]:
    """(image, alias) of every FROM, global ARGs substituted."""
    defaults = arg_defaults()
    found: list[tuple[str, str | None]] = []
    for instruction in INSTRUCTIONS:
        if instruction.keyword != "FROM":
            continue
        words = [w for w in instruction.arguments.split() if not w.startswith("--platform")]
        image = re.sub(r"\$\{?(\w+)\}?", lambda m: defaults.get(m.group(1), m.group(0)), words[0])
        alias = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
        found.append((image, alias))
    return found


def final_stage() -> list[Instruction]:
    last = max(instruction.stage for instruction in INSTRUCTIONS)
    return [instruction for instruction in INSTRUCTIONS if instruction.stage == last]


def exec_form(arguments: str) -> list[str] | None:
    try:
        value = json.loads(arguments)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, list) and all(isinstance(v, str) for v in value) else None


def copy_sources(instruction: Instruction) -> list[str]:
    words = [w for w in shlex.split(instruction.arguments) if not w.startswith("--")]
    return words[:-1]


def local_copy_sources() -> list[str]:
    """What the COPY lines take from the build context (not from another stage)."""
    return [
        source
        for instruction in INSTRUCTIONS
        if instruction.keyword == "COPY" and "--from=" not in instruction.arguments
        for source in copy_sources(instruction)
    ]


# -- base, user, entrypoint --------------------------------------------------------------------------------------


def test_every_stage_is_a_tagged_slim_python_of_the_supported_version() -> None:
    required = PYPROJECT["project"]["requires-python"]  # ">=3.11"
    minimum = tuple(int(part) for part in required.removeprefix(">=").split("."))
    for image, _ in stages():
        repository, _, tag = image.partition(":")
        assert repository == "python", image
        assert tag and tag != "latest", f"{image}: pin a tag (DL3006, DL3007)"
        assert "-slim" in tag, f"{image}: a slim base keeps the image small"
        version = tuple(int(part) for part in tag.split("-")[0].split("."))
        assert version[:2] >= minimum[:2], f"{image} is older than requires-python {required}"


def test_the_image_runs_as_a_numeric_non_root_user_the_pod_spec_agrees_with() -> None:
    users = [instruction.arguments for instruction in final_stage() if instruction.keyword == "USER"]
    assert users, "the final stage sets no USER: the controller would run as root (DL3002)"
    uid, _, gid = users[-1].partition(":")
    # Numeric, so that the kubelet can check runAsNonRoot without reading /etc/passwd in the image.
    assert uid.isdigit() and int(uid) != 0, f"USER {users[-1]}"
    assert not gid or (gid.isdigit() and int(gid) != 0)
    deployment = yaml.safe_load((REPO / "deploy" / "controller" / "deployment.yaml").read_text(encoding="utf-8"))
    values = yaml.safe_load((REPO / "deploy" / "helm" / "rollouts" / "values.yaml").read_text(encoding="utf-8"))
    for context in (deployment["spec"]["template"]["spec"]["securityContext"], values["podSecurityContext"]):
        assert context["runAsUser"] == int(uid)


def test_the_entrypoint_runs_the_controller_in_exec_form() -> None:
    entrypoints = [instruction.arguments for instruction in final_stage() if instruction.keyword == "ENTRYPOINT"]
    assert entrypoints, "no ENTRYPOINT"
    # Exec form: the controller is PID 1 and gets SIGTERM itself, which kopf handles (DL3025).
    assert exec_form(entrypoints[-1]) == ["rollouts", "controller"]
    assert "rollouts" in PYPROJECT["project"]["scripts"]
    assert not [i for i in final_stage() if i.keyword == "CMD"], "args come from the pod spec, not a CMD"


def test_the_exposed_port_is_the_metrics_port() -> None:
    exposed = [instruction.arguments for instruction in final_stage() if instruction.keyword == "EXPOSE"]
    assert exposed == [str(METRICS_PORT)]
    from rollouts.controller.controller import DEFAULT_METRICS_PORT

    assert DEFAULT_METRICS_PORT == METRICS_PORT


# -- what goes in ------------------------------------------------------------------------------------------------------


def distribution_packages() -> list[str]:
    """The top-level directories the distribution's packages come from (pyproject's packages.find include)."""
    patterns = PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]
    return sorted(
        path.name
        for path in REPO.iterdir()
        if (path / "__init__.py").is_file() and any(fnmatch.fnmatch(path.name, p) for p in patterns)
    )


# The local test cluster: part of the distribution (``rollouts sandbox``), never imported by the controller.
NOT_IN_THE_IMAGE: Final = frozenset({"sandbox"})


def test_the_build_stage_copies_the_project_metadata_and_every_package_but_the_sandbox() -> None:
    copied = {source.rstrip("/") for source in local_copy_sources()}
    wanted = {"pyproject.toml", PYPROJECT["project"]["readme"], *distribution_packages()} - NOT_IN_THE_IMAGE
    assert wanted <= copied, f"not copied into the build stage: {sorted(wanted - copied)}"
    for source in copied:
        assert (REPO / source).exists(), f"COPY {source}: no such file in the repository"
    assert not copied & {"tests", ".venv", "deploy", "docs", *NOT_IN_THE_IMAGE}, "copies what the image does not need"


def dockerignore_excludes(path: str, patterns: list[str]) -> bool:
    """Whether the build context leaves ``path`` out: the last matching pattern wins, ``!`` re-includes, a pattern
    matches a path or any of its parents (the subset of Docker's rules that .dockerignore uses)."""
    parts = path.strip("/").split("/")
    candidates = ["/".join(parts[: index + 1]) for index in range(len(parts))]
    excluded = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        glob = pattern.removeprefix("!").strip("/")
        if glob.startswith("**/"):
            matched = any(fnmatch.fnmatch(part, glob[3:]) for part in parts)
        else:
            matched = any(fnmatch.fnmatch(candidate, glob) for candidate in candidates)
        if matched:
            excluded = not negated
    return excluded


def dockerignore_patterns() -> list[str]:
    lines = DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def test_the_dockerignore_keeps_what_the_dockerfile_copies_and_leaves_out_the_rest() -> None:
    patterns = dockerignore_patterns()
    for source in local_copy_sources():
        assert not dockerignore_excludes(source, patterns), f".dockerignore leaves out {source}, which is copied"
    for heavy in (".venv", ".git", "tests", "rollouts/__pycache__"):
        assert dockerignore_excludes(heavy, patterns), f".dockerignore sends {heavy} to the build"


def test_the_package_is_installed_from_the_sources_and_only_its_virtualenv_reaches_the_image() -> None:
    (_, build_alias), *_ = stages()
    runs = [i.arguments for i in INSTRUCTIONS if i.keyword == "RUN" and i.stage == 0]
    assert any(re.search(r"pip install (--\S+ )*\.(\s|$)", run) for run in runs), "pip install . in the build stage"
    final_copies = [i.arguments for i in final_stage() if i.keyword == "COPY"]
    assert final_copies == [f"--from={build_alias} /opt/rollouts /opt/rollouts"]
    env = " ".join(i.arguments for i in final_stage() if i.keyword == "ENV")
    assert "PATH=/opt/rollouts/bin:" in env


def test_setuptools_finds_the_controller_in_what_the_dockerfile_copies(tmp_path: Path) -> None:
    """The build stage's `pip install .`, minus the network: setuptools' build_py on a context holding only the
    copied files must produce the controller's modules and the `rollouts` script."""
    context = tmp_path / "context"
    context.mkdir()
    for source in local_copy_sources():
        origin = REPO / source.rstrip("/")
        target = context / source.rstrip("/")
        if origin.is_dir():
            shutil.copytree(origin, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(origin, target)
    build = tmp_path / "build"
    result = subprocess.run(
        [sys.executable, "-c", "from setuptools import setup; setup()", "-q", "build_py", "--build-lib", str(build),
         "egg_info", "--egg-base", str(tmp_path)],
        cwd=context, capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    for module in ("cli/main.py", "cli/controller.py", "rollouts/controller/run.py",
                   "analysis/controller/controller.py", "kube/kopf_operator.py"):
        assert (build / module).is_file(), f"{module} is not in the built package"
    (egg_info,) = tmp_path.glob("*.egg-info")
    entry_points = (egg_info / "entry_points.txt").read_text(encoding="utf-8")
    assert "rollouts = cli.main:main" in entry_points
    assert not (build / "sandbox").exists()

    # What the image runs works from that package alone: `rollouts controller --help`, every command registered,
    # the built package first on the path and the sandbox made unimportable (the venv's editable install of the
    # repository would otherwise still find it).
    run = subprocess.run(
        [sys.executable, "-I", "-c",
         f"import sys; sys.path.insert(0, {str(build)!r}); sys.modules['sandbox'] = None; "
         "sys.argv = ['rollouts', 'controller', '--help']; from cli.main import main; main()"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert "sandbox" not in run.stderr


# -- hadolint's rules, those that apply ------------------------------------------------------------------------------


def test_hadolint_rules() -> None:
    problems: list[str] = []
    aliases: list[str | None] = []
    for instruction in INSTRUCTIONS:
        keyword, arguments = instruction.keyword, instruction.arguments
        if keyword == "FROM":
            alias = stages()[instruction.stage][1]
            if alias is not None and alias in aliases:
                problems.append(f"DL3024 stage name {alias} is used twice")
            aliases.append(alias)
        elif keyword == "WORKDIR" and not arguments.startswith("/"):
            problems.append(f"DL3000 WORKDIR {arguments} is not absolute")
        elif keyword == "ADD":
            problems.append(f"DL3020 ADD {arguments}: COPY files, ADD only fetches archives")
        elif keyword == "COPY" and "--from=" in arguments:
            source_stage = re.search(r"--from=(\S+)", arguments)
            assert source_stage is not None
            if source_stage.group(1) not in aliases[: instruction.stage]:
                problems.append(f"DL3022 COPY --from={source_stage.group(1)}: not an earlier stage")
        elif keyword in ("ENTRYPOINT", "CMD") and exec_form(arguments) is None:
            problems.append(f"DL3025 {keyword} {arguments}: use the JSON (exec) form")
        elif keyword == "RUN":
            commands = re.split(r"&&|;|\|\|", arguments)
            for command in commands:
                words = command.split()
                if words[:1] == ["sudo"]:
                    problems.append(f"DL3004 RUN {command.strip()}: no sudo")
                if words[:1] == ["cd"]:
                    problems.append(f"DL3003 RUN {command.strip()}: use WORKDIR")
                pip_install = "pip" in " ".join(words[:2]) and "install" in words
                if pip_install and "--no-cache-dir" not in words and not _pip_cache_disabled(instruction.stage):
                    problems.append(f"DL3042 RUN {command.strip()}: pip install --no-cache-dir")
                if words[:2] == ["apt-get", "install"]:
                    if "--no-install-recommends" not in words:
                        problems.append(f"DL3015 {command.strip()}: --no-install-recommends")
                    if "rm -rf /var/lib/apt/lists" not in arguments:
                        problems.append(f"DL3009 {command.strip()}: remove /var/lib/apt/lists in the same RUN")
            if "|" in arguments.replace("||", "") and "pipefail" not in _shell(instruction.stage):
                problems.append(f"DL4006 RUN {arguments}: set -o pipefail (SHELL) before a pipe")
        elif keyword == "MAINTAINER":
            problems.append("DL4000 MAINTAINER is deprecated")
    assert not problems, "\n".join(problems)


def _pip_cache_disabled(stage: int) -> bool:
    return any(
        i.keyword == "ENV" and i.stage == stage and re.search(r"PIP_NO_CACHE_DIR=(1|true|on)", i.arguments)
        for i in INSTRUCTIONS
    )


def _shell(stage: int) -> str:
    return " ".join(i.arguments for i in INSTRUCTIONS if i.keyword == "SHELL" and i.stage == stage)


def test_the_parser_reads_continuations_and_stages() -> None:
    parsed = parse_dockerfile("ARG A=1\nFROM x:${A} AS b\n# c\nRUN a \\\n  && b\nFROM y:2\nUSER 1\n")
    assert [(i.keyword, i.arguments, i.stage) for i in parsed] == [
        ("ARG", "A=1", -1), ("FROM", "x:${A} AS b", 0), ("RUN", "a && b", 0), ("FROM", "y:2", 1), ("USER", "1", 1),
    ]
