"""EKS mends: CREATING and DELETING phases, published control planes, accessConfig, UntagResource.

moto 5.2.1 makes a cluster ACTIVE the moment CreateCluster returns, with a made-up endpoint
and CA, removes it the moment DeleteCluster returns, and ignores accessConfig. Here a cluster
is CREATING for at least `eksCreateDelaySeconds` and, when `requireControlPlane` is on (part
2's watcher runs), until its real endpoint and CA are published; DescribeCluster then returns
those. DeleteCluster leaves it DELETING for `eksDeleteDelaySeconds`. Phases are computed when
read, so no background thread touches moto's state.
"""

import re
import threading
import time

from moto.eks import urls as eks_urls
from moto.eks.exceptions import InvalidParameterException, ResourceNotFoundException
from moto.eks.models import CLUSTER_NOT_FOUND_MSG, Cluster, EKSBackend, validate_safe_to_delete
from moto.core.responses import ActionResult, EmptyResult
from moto.eks.responses import EKSResponse

import eks_access_entries
import eks_access_model
import settings

AUTH_MODES = ("CONFIG_MAP", "API_AND_CONFIG_MAP", "API")
# Deletions and phase changes of one backend happen under this lock: moto serves requests on threads.
_lock = threading.RLock()


def _not_found(name):
    return ResourceNotFoundException(
        clusterName=None, nodegroupName=None, fargateProfileName=None, addonName=None,
        message=CLUSTER_NOT_FOUND_MSG.format(clusterName=name),
    )


def _status_get(self):
    phase = self.__dict__.get("_sbx_phase", "ACTIVE")
    if phase == "CREATING":
        waited = time.monotonic() - self._sbx_since
        published = self.__dict__.get("_sbx_control_plane") is not None
        if waited >= settings.get("eksCreateDelaySeconds") and (published or not settings.get("requireControlPlane")):
            self._sbx_phase = phase = "ACTIVE"
    return phase


def _status_set(self, value):
    # moto's constructor sets ACTIVE; a new cluster starts CREATING (set in _init below).
    self.__dict__["_sbx_phase"] = value


def _endpoint_get(self):
    plane = self.__dict__.get("_sbx_control_plane")
    return plane["endpoint"] if plane and self.status != "CREATING" else None


def _ca_get(self):
    plane = self.__dict__.get("_sbx_control_plane")
    return {"data": plane["certificateAuthority"]} if plane and self.status != "CREATING" else {}


def _ignore(attr):
    def setter(self, value):
        self.__dict__[attr] = value

    return setter


_original_init = Cluster.__init__


def _init(self, *args, **kwargs):
    _original_init(self, *args, **kwargs)
    self._sbx_phase = "CREATING"
    self._sbx_since = time.monotonic()
    self._sbx_control_plane = None
    self.access_config = {"authenticationMode": "CONFIG_MAP", "bootstrapClusterCreatorAdminPermissions": True}
    self.sbx_creator_arn = None
    self.sbx_access_entries = {}


def purge_deleted(backend):
    """Drops clusters whose DELETING phase has lasted its minimum."""
    with _lock:
        delay = settings.get("eksDeleteDelaySeconds")
        for name, cluster in list(backend.clusters.items()):
            if cluster.__dict__.get("_sbx_phase") == "DELETING" and time.monotonic() - cluster._sbx_since >= delay:
                del backend.clusters[name]
                backend.cluster_count -= 1


def _delete_cluster(self, name):
    with _lock:
        purge_deleted(self)
        cluster = self.clusters.get(name)
        if cluster is None:
            raise _not_found(name)
        if cluster.status != "DELETING":
            validate_safe_to_delete(cluster)
            cluster._sbx_phase = "DELETING"
            cluster._sbx_since = time.monotonic()
        purge_deleted(self)
        return cluster


def _purging(method):
    def wrapper(self, *args, **kwargs):
        purge_deleted(self)
        return method(self, *args, **kwargs)

    return wrapper


def _caller_principal(response):
    """The IAM ARN of the caller, as EKS records the cluster creator (a role, not its session)."""
    from moto.sts.models import sts_backends

    access_key = response.get_access_key()
    _, arn, _ = sts_backends[response.current_account]["global"].get_caller_identity(access_key, response.region)
    assumed = re.match(r"arn:([^:]+):sts::(\d+):assumed-role/([^/]+)/", arn)
    if assumed:
        return f"arn:{assumed[1]}:iam::{assumed[2]}:role/{assumed[3]}"
    user = re.match(r"arn:([^:]+):sts::(\d+):user/(.+)$", arn)
    if user:
        return f"arn:{user[1]}:iam::{user[2]}:user/{user[3]}"
    return arn


_original_create_response = EKSResponse.create_cluster


def _create_cluster_response(self):
    access = self._get_param("accessConfig") or {}
    mode = access.get("authenticationMode") or "CONFIG_MAP"
    if mode not in AUTH_MODES:
        raise InvalidParameterException(message=f"Unsupported authenticationMode: {mode}")
    result = _original_create_response(self)
    cluster = self.eks_backend.clusters[self._get_param("name")]
    bootstrap = access.get("bootstrapClusterCreatorAdminPermissions")
    cluster.access_config = {
        "authenticationMode": mode,
        "bootstrapClusterCreatorAdminPermissions": True if bootstrap is None else bool(bootstrap),
    }
    cluster.sbx_creator_arn = _caller_principal(self)
    if cluster.access_config["bootstrapClusterCreatorAdminPermissions"] and mode != "CONFIG_MAP":
        eks_access_model.bootstrap_creator(self.eks_backend, cluster)
    return result


_original_update_config = EKSResponse.update_cluster_config


def _update_cluster_config_response(self):
    access = self._get_param("accessConfig")
    if access and access.get("authenticationMode"):
        cluster = self.eks_backend.describe_cluster(self._get_param("name"))
        new, old = access["authenticationMode"], cluster.access_config["authenticationMode"]
        # AWS only moves towards API: CONFIG_MAP -> API_AND_CONFIG_MAP -> API.
        if new not in AUTH_MODES or AUTH_MODES.index(new) < AUTH_MODES.index(old):
            raise InvalidParameterException(message=f"Unsupported authentication mode update from {old} to {new}")
        cluster.access_config["authenticationMode"] = new
        if old == "CONFIG_MAP" and cluster.access_config["bootstrapClusterCreatorAdminPermissions"]:
            eks_access_model.bootstrap_creator(self.eks_backend, cluster)
    return _original_update_config(self)


def publish_control_plane(backend, name, endpoint, ca):
    """Records a cluster's real endpoint and CA (part 2); it turns ACTIVE once its minimum delay passed."""
    purge_deleted(backend)
    cluster = backend.clusters.get(name)
    if cluster is None:
        raise KeyError(name)
    cluster._sbx_control_plane = {"endpoint": endpoint, "certificateAuthority": ca}
    return cluster


def describe_for_admin(cluster):
    """The admin API's view of one cluster."""
    return {
        "name": cluster.name,
        "arn": cluster.arn,
        "status": cluster.status,
        "version": cluster.version,
        "createdAt": cluster.created_at.isoformat(),
        "endpoint": cluster.endpoint,
        # What the watcher published, CREATING or not: a cluster made anew under the name has none.
        "publishedEndpoint": (getattr(cluster, "_sbx_control_plane", None) or {}).get("endpoint"),
        "certificateAuthority": (cluster.certificate_authority or {}).get("data"),
        "roleArn": cluster.role_arn,
        "accessConfig": cluster.access_config,
        "tags": cluster.tags,
    }


def _untag_resource_response(self):
    # UntagResource names its keys as a repeated query parameter (?tagKeys=a&tagKeys=b); moto
    # 5.2.1 reads only the first, so all but one of the keys stayed. EKS removes them all.
    keys = self.querystring.get("tagKeys", [])
    self.eks_backend.untag_resource(self._extract_arn_from_path(), list(keys))
    return EmptyResult()


def apply():
    """Installs the EKS mends, including the access entries API, on moto's classes."""
    Cluster.__init__ = _init
    Cluster.status = property(_status_get, _status_set)
    Cluster.endpoint = property(_endpoint_get, _ignore("_moto_endpoint"))
    Cluster.certificate_authority = property(_ca_get, _ignore("_moto_ca"))
    EKSBackend.delete_cluster = _delete_cluster
    for method in ("describe_cluster", "list_clusters", "create_cluster", "update_cluster_config"):
        setattr(EKSBackend, method, _purging(getattr(EKSBackend, method)))
    EKSResponse.create_cluster = _create_cluster_response
    EKSResponse.update_cluster_config = _update_cluster_config_response
    EKSResponse.untag_resource = _untag_resource_response
    eks_access_entries.apply(eks_urls, EKSResponse)
