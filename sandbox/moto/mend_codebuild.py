"""CodeBuild mends: build timestamps as numbers, a service role CodeBuild can assume, UpdateProject.

- moto 5.2.1 renders a build's startTime, endTime and its phases' times as ISO 8601 strings;
  CodeBuild (an awsJson1_1 service) sends numbers, and the SDK refuses strings there
  ("Expected real number"). Projects' times are already numbers.
- CreateProject and UpdateProject refuse a service role CodeBuild cannot assume (missing, not
  trusting codebuild.amazonaws.com, or made less than `iamPropagationSeconds` ago, as IAM
  changes take a while to reach CodeBuild) with AWS's InvalidInputException.
- UpdateProject, which moto lacks, replaces the fields it is given.
"""

import json
import time

import settings
from moto.codebuild.exceptions import InvalidInputException, ResourceNotFoundException
from moto.codebuild.responses import CodeBuildResponse
from moto.core.parse import default_timestamp_parser
from moto.core.utils import utcnow

TIME_KEYS = ("startTime", "endTime")


def _epoch(value):
    if isinstance(value, str):
        try:
            return default_timestamp_parser(value).timestamp()
        except (TypeError, ValueError):
            return value
    return value


def _fix_build(build):
    for key in TIME_KEYS:
        if key in build:
            build[key] = _epoch(build[key])
    for phase in build.get("phases") or []:
        for key in TIME_KEYS:
            if key in phase:
                phase[key] = _epoch(phase[key])
    return build


def _numbers(method, key):
    def patched(self):
        body = json.loads(method(self))
        value = body.get(key)
        if isinstance(value, list):
            body[key] = [_fix_build(b) for b in value]
        elif isinstance(value, dict):
            body[key] = _fix_build(value)
        return json.dumps(body)

    return patched


def _assumable(account_id, role_arn):
    from moto.iam.models import iam_backends

    for partition in iam_backends[account_id].values():
        try:
            role = partition.get_role_by_arn(role_arn)
        except Exception:
            continue
        trust = role.assume_role_policy_document
        trust = trust if isinstance(trust, str) else json.dumps(trust)
        age = (utcnow() - role.create_date).total_seconds()
        return "codebuild.amazonaws.com" in trust and age >= settings.get("iamPropagationSeconds")
    return False


def _check_role(self):
    role = self._get_param("serviceRole")
    if role and not _assumable(self.current_account, role):
        raise InvalidInputException(f"CodeBuild is not authorized to perform: sts:AssumeRole on {role}")


def _guarded(method):
    def patched(self):
        _check_role(self)
        return method(self)

    return patched


UPDATABLE = (
    "description",
    "source",
    "artifacts",
    "environment",
    "serviceRole",
    "timeoutInMinutes",
    "queuedTimeoutInMinutes",
    "sourceVersion",
    "logsConfig",
    "vpcConfig",
    "cache",
)


def _update_project(self):
    name = self._get_param("name")
    project = self.codebuild_backend.codebuild_projects.get(name)
    if project is None:
        raise ResourceNotFoundException(f"Project cannot be found: {name}")
    _check_role(self)
    meta = project.project_metadata
    for key in UPDATABLE:
        value = self._get_param(key)
        if value is not None:
            meta[key] = value
    if self._get_param("tags") is not None:
        meta["tags"] = self._get_param("tags")
    meta["lastModifiedDate"] = time.time()
    return json.dumps({"project": meta})


def apply():
    """Installs the CodeBuild mends on moto's response class."""
    CodeBuildResponse.create_project = _guarded(CodeBuildResponse.create_project)
    CodeBuildResponse.update_project = _update_project
    CodeBuildResponse.start_build = _numbers(CodeBuildResponse.start_build, "build")
    CodeBuildResponse.stop_build = _numbers(CodeBuildResponse.stop_build, "build")
    CodeBuildResponse.batch_get_builds = _numbers(CodeBuildResponse.batch_get_builds, "builds")
