"""ECR mends: repositories point at the sandbox registry, digests are the manifest's, lifecycle
policies expire images.

moto 5.2.1 gives every repository the AWS host name `<account>.dkr.ecr.<region>.amazonaws.com`,
an authorization token that expired in 2015 with that host as proxyEndpoint (and whose password
is the account id with "-auth-token": AWS's are opaque and random), and, when
PutImage has no imageDigest, a digest made from the layer list (or a random number) instead
of the SHA-256 of the manifest bytes that a registry and AWS report. moto keeps a lifecycle
policy and never applies it; AWS applies it within a day of a push, the sandbox right after each
PutImage and PutLifecyclePolicy (rules by priority; each rule counts every image it selects, but
an image a higher-priority rule selects is never expired by a lower one; `imageCountMoreThan`
keeps the newest pushes, `sinceImagePushed` expires older than so many days; several tag prefixes
or patterns must all match). Expired images leave ECR only, not the registry behind it.
"""

import base64
import fnmatch
import hashlib
import json
import secrets
import time
from datetime import datetime, timezone

from moto.ecr.models import ECRBackend, Image, Repository
from moto.ecr.responses import ECRResponse

import settings


def _uri_get(self):
    host = settings.get("registryHost")
    return f"{host}/{self.name}" if host else self.__dict__["_moto_uri"]


def _uri_set(self, value):
    self.__dict__["_moto_uri"] = value


def _create_digest(self):
    self._image_digest = "sha256:" + hashlib.sha256(self.image_manifest.encode("utf-8")).hexdigest()


_original_token = ECRResponse.get_authorization_token


# One opaque password per sandbox process, as AWS hands out: tests can plant it as a canary and
# look for it wherever kubecontrol writes.
_PASSWORD = secrets.token_urlsafe(48)


def _get_authorization_token(self):
    result = _original_token(self)
    host = settings.get("registryHost")
    token = base64.b64encode(f"AWS:{_PASSWORD}".encode("ascii")).decode()
    # Tokens live 12 hours on AWS; moto's expired in 2015, which clients refuse to cache.
    expires = datetime.fromtimestamp(time.time() + 12 * 3600, tz=timezone.utc)
    for data in result.result["authorizationData"]:
        data["expiresAt"] = expires
        data["authorizationToken"] = token
        if host:
            data["proxyEndpoint"] = f"{settings.get('registryScheme')}://{host}"
    return result


def _selected(image, selection):
    status = selection.get("tagStatus")
    tags = image.image_tags
    if status == "any":
        return True
    if status == "untagged":
        return not tags
    # several prefixes or patterns: the image must have a tag for each of them
    prefixes = selection.get("tagPrefixList") or []
    patterns = selection.get("tagPatternList") or []
    return all(any(t.startswith(p) for t in tags) for p in prefixes) and all(
        any(fnmatch.fnmatchcase(t, p) for t in tags) for p in patterns
    )


def _apply_lifecycle(repository):
    """Expires what the policy says, as ECR evaluates it: each rule counts every image it selects
    (newest first), but never expires one that a higher-priority rule selects."""
    if not repository.lifecycle_policy:
        return
    rules = sorted(json.loads(repository.lifecycle_policy).get("rules", []), key=lambda r: r["rulePriority"])
    # newest first; pushes within one second keep their order
    images = [img for _, img in sorted(enumerate(repository.images), key=lambda e: (e[1].image_pushed_at, e[0]), reverse=True)]
    claimed, expired = set(), []
    now = time.time()
    for rule in rules:
        selection = rule.get("selection", {})
        chosen = [img for img in images if _selected(img, selection)]
        count = int(selection.get("countNumber", 0))
        if selection.get("countType") == "imageCountMoreThan":
            beyond = chosen[count:]
        elif selection.get("countType") == "sinceImagePushed":
            beyond = [img for img in chosen if now - img.image_pushed_at > count * 86400]
        else:
            beyond = []
        if rule.get("action", {}).get("type", "expire") == "expire":
            expired += [img for img in beyond if id(img) not in claimed and img not in expired]
        claimed.update(id(img) for img in chosen)
    for img in expired:
        repository.images.remove(img)


_original_put_image = ECRBackend.put_image
_original_put_lifecycle_policy = ECRBackend.put_lifecycle_policy


def _put_image(self, repository_name, *args, **kwargs):
    image = _original_put_image(self, repository_name, *args, **kwargs)
    _apply_lifecycle(self.repositories[repository_name])
    return image


def _put_lifecycle_policy(self, registry_id, repository_name, lifecycle_policy_text):
    answer = _original_put_lifecycle_policy(self, registry_id, repository_name, lifecycle_policy_text)
    _apply_lifecycle(self.repositories[repository_name])
    return answer


def apply():
    """Installs the ECR mends on moto's classes."""
    ECRBackend.put_image = _put_image
    ECRBackend.put_lifecycle_policy = _put_lifecycle_policy
    # A property rather than a value set at creation, so repositories made before part 2
    # configured the registry still point at it.
    Repository.uri = property(_uri_get, _uri_set)
    Image._create_digest = _create_digest
    ECRResponse.get_authorization_token = _get_authorization_token
