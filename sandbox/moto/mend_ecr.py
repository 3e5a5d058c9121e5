"""ECR mends: repositories point at the sandbox registry, digests are the manifest's.

moto 5.2.1 gives every repository the AWS host name `<account>.dkr.ecr.<region>.amazonaws.com`,
an authorization token that expired in 2015 with that host as proxyEndpoint (and whose password
is the account id with "-auth-token": AWS's are opaque and random), and, when
PutImage has no imageDigest, a digest made from the layer list (or a random number) instead
of the SHA-256 of the manifest bytes that a registry and AWS report.
"""

import base64
import hashlib
import secrets
import time
from datetime import datetime, timezone

from moto.ecr.models import Image, Repository
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


def apply():
    """Installs the ECR mends on moto's classes."""
    # A property rather than a value set at creation, so repositories made before part 2
    # configured the registry still point at it.
    Repository.uri = property(_uri_get, _uri_set)
    Image._create_digest = _create_digest
    ECRResponse.get_authorization_token = _get_authorization_token
