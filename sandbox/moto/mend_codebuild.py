"""CodeBuild mend: build timestamps as the JSON protocol sends them, epoch seconds.

moto 5.2.1 renders a build's startTime, endTime and its phases' times as ISO 8601 strings;
CodeBuild (an awsJson1_1 service) sends numbers, and the SDK refuses strings there
("Expected real number"). Projects' times are already numbers.
"""

import json

from moto.codebuild.responses import CodeBuildResponse
from moto.core.parse import default_timestamp_parser

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


def apply():
    """Installs the CodeBuild mend on moto's response class."""
    CodeBuildResponse.start_build = _numbers(CodeBuildResponse.start_build, "build")
    CodeBuildResponse.stop_build = _numbers(CodeBuildResponse.stop_build, "build")
    CodeBuildResponse.batch_get_builds = _numbers(CodeBuildResponse.batch_get_builds, "builds")
