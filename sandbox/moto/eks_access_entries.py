"""The EKS access entries API, which moto 5.2.1 lacks (its routes answer 404).

Implements CreateAccessEntry, DescribeAccessEntry, ListAccessEntries, UpdateAccessEntry,
DeleteAccessEntry, AssociateAccessPolicy, DisassociateAccessPolicy,
ListAssociatedAccessPolicies and ListAccessPolicies with AWS's shapes, defaults and errors.
Entries live on the cluster object, so they go with the cluster and with a moto reset.
"""

import re
import uuid

from moto.core.responses import ActionResult, EmptyResult
from moto.core.utils import utcnow
from moto.eks.exceptions import (
    InvalidParameterException,
    InvalidRequestException,
    ResourceInUseException,
    ResourceNotFoundException,
)

POLICY_PREFIX = "arn:aws:eks::aws:cluster-access-policy/"
ACCESS_POLICIES = [
    "AmazonEKSAdminPolicy",
    "AmazonEKSAdminViewPolicy",
    "AmazonEKSClusterAdminPolicy",
    "AmazonEKSEditPolicy",
    "AmazonEKSViewPolicy",
    "AmazonEKSAutoNodePolicy",
    "AmazonEKSBlockStoragePolicy",
    "AmazonEKSComputePolicy",
    "AmazonEKSLoadBalancingPolicy",
    "AmazonEKSNetworkingPolicy",
]
ENTRY_TYPES = ("STANDARD", "FARGATE_LINUX", "EC2_LINUX", "EC2_WINDOWS", "EC2", "HYBRID_LINUX", "HYPERPOD_LINUX")
PRINCIPAL = re.compile(r"^arn:(aws[\w-]*):iam::(\d{12}):(role|user)/(?:[\w+=,.@/-]*/)?([\w+=,.@-]+)$")
NOT_IN_USE = "The specified access entry resource is already in use on this cluster."
ENTRY_NOT_FOUND = "The specified principalArn could not be found. You can view your available access entries with 'list-access-entries'."


def _entry_not_found():
    return ResourceNotFoundException(
        clusterName=None, nodegroupName=None, fargateProfileName=None, addonName=None, message=ENTRY_NOT_FOUND
    )


def _cluster(response):
    return response.eks_backend.describe_cluster(response._get_param("name"))


def _require_api_mode(cluster):
    if cluster.access_config["authenticationMode"] == "CONFIG_MAP":
        raise InvalidRequestException(
            message="The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] to perform this operation."
        )


def _record(cluster, principal):
    record = cluster.sbx_access_entries.get(principal)
    if record is None:
        raise _entry_not_found()
    return record


def _paginate(items, response):
    max_results = int(response._get_param("maxResults") or 100)
    start = int(response._get_param("nextToken") or 0)
    page = items[start : start + max_results]
    token = str(start + max_results) if start + max_results < len(items) else None
    return page, token


def new_entry(backend, cluster, principal, groups=None, username=None, entry_type=None, tags=None):
    """Validates and stores an access entry as CreateAccessEntry does; returns its record."""
    match = PRINCIPAL.match(principal or "")
    if not match:
        raise InvalidParameterException(message=f"The specified principalArn is invalid: {principal}")
    entry_type = entry_type or "STANDARD"
    if entry_type not in ENTRY_TYPES:
        raise InvalidParameterException(message=f"The specified type is invalid: {entry_type}")
    if entry_type != "STANDARD" and (groups or username):
        raise InvalidParameterException(
            message=f"kubernetesGroups and username cannot be specified for access entries of type {entry_type}"
        )
    if principal in cluster.sbx_access_entries:
        raise ResourceInUseException(clusterName=cluster.name, nodegroupName=None, addonName=None, message=NOT_IN_USE)
    partition, account, kind, name = match.groups()
    if username is None:
        if entry_type.startswith("EC2") or entry_type == "HYBRID_LINUX":
            username = "system:node:{{EC2PrivateDNSName}}"
        elif entry_type == "FARGATE_LINUX":
            username = "system:node:{{SessionName}}"
        elif kind == "role":
            username = f"arn:{partition}:sts::{account}:assumed-role/{name}/{{{{SessionName}}}}"
        else:
            username = principal
    now = utcnow()
    entry = {
        "clusterName": cluster.name,
        "principalArn": principal,
        "kubernetesGroups": list(groups or []),
        "accessEntryArn": f"arn:{partition}:eks:{backend.region_name}:{backend.account_id}:access-entry/"
        f"{cluster.name}/{kind}/{account}/{name}/{uuid.uuid4()}",
        "createdAt": now,
        "modifiedAt": now,
        "tags": dict(tags or {}),
        "username": username,
        "type": entry_type,
    }
    record = {"entry": entry, "policies": {}}
    cluster.sbx_access_entries[principal] = record
    return record


def associate(record, policy_arn, scope):
    """Associates (or re-scopes) an access policy on an entry, validating as AWS does."""
    if not policy_arn or not policy_arn.startswith(POLICY_PREFIX) or policy_arn[len(POLICY_PREFIX) :] not in ACCESS_POLICIES:
        raise ResourceNotFoundException(
            clusterName=None, nodegroupName=None, fargateProfileName=None, addonName=None,
            message=f"The specified policyArn could not be found: {policy_arn}",
        )
    scope = dict(scope or {})
    kind = scope.get("type")
    namespaces = list(scope.get("namespaces") or [])
    if kind not in ("cluster", "namespace"):
        raise InvalidParameterException(message="accessScope.type must be one of [cluster, namespace]")
    if kind == "namespace" and not namespaces:
        raise InvalidParameterException(message="namespaces must be specified for accessScope of type namespace")
    if kind == "cluster" and namespaces:
        raise InvalidParameterException(message="namespaces cannot be specified for accessScope of type cluster")
    now = utcnow()
    existing = record["policies"].get(policy_arn)
    policy = {
        "policyArn": policy_arn,
        "accessScope": {"type": kind, "namespaces": namespaces},
        "associatedAt": existing["associatedAt"] if existing else now,
        "modifiedAt": now,
    }
    record["policies"][policy_arn] = policy
    return policy


def bootstrap_creator(backend, cluster):
    """Gives the cluster creator the admin entry that bootstrapClusterCreatorAdminPermissions promises."""
    principal = cluster.sbx_creator_arn
    if not principal or principal in cluster.sbx_access_entries or not PRINCIPAL.match(principal):
        return
    record = new_entry(backend, cluster, principal)
    associate(record, POLICY_PREFIX + "AmazonEKSClusterAdminPolicy", {"type": "cluster"})


def create_access_entry(self):
    cluster = _cluster(self)
    _require_api_mode(cluster)
    record = new_entry(
        self.eks_backend,
        cluster,
        self._get_param("principalArn"),
        groups=self._get_param("kubernetesGroups"),
        username=self._get_param("username"),
        entry_type=self._get_param("type"),
        tags=self._get_param("tags"),
    )
    return ActionResult({"accessEntry": record["entry"]})


def describe_access_entry(self):
    record = _record(_cluster(self), self._get_param("principalArn"))
    return ActionResult({"accessEntry": record["entry"]})


def list_access_entries(self):
    cluster = _cluster(self)
    policy = self._get_param("associatedPolicyArn")
    principals = [p for p, r in cluster.sbx_access_entries.items() if not policy or policy in r["policies"]]
    page, token = _paginate(principals, self)
    return ActionResult({"accessEntries": page, "nextToken": token})


def update_access_entry(self):
    record = _record(_cluster(self), self._get_param("principalArn"))
    entry = record["entry"]
    groups, username = self._get_param("kubernetesGroups"), self._get_param("username")
    if entry["type"] != "STANDARD" and (groups or username):
        raise InvalidParameterException(
            message=f"kubernetesGroups and username cannot be specified for access entries of type {entry['type']}"
        )
    if groups is not None:
        entry["kubernetesGroups"] = list(groups)
    if username is not None:
        entry["username"] = username
    entry["modifiedAt"] = utcnow()
    return ActionResult({"accessEntry": entry})


def delete_access_entry(self):
    cluster = _cluster(self)
    _record(cluster, self._get_param("principalArn"))
    del cluster.sbx_access_entries[self._get_param("principalArn")]
    return EmptyResult()


def associate_access_policy(self):
    cluster = _cluster(self)
    principal = self._get_param("principalArn")
    policy = associate(_record(cluster, principal), self._get_param("policyArn"), self._get_param("accessScope"))
    return ActionResult({"clusterName": cluster.name, "principalArn": principal, "associatedAccessPolicy": policy})


def disassociate_access_policy(self):
    record = _record(_cluster(self), self._get_param("principalArn"))
    record["policies"].pop(self._get_param("policyArn"), None)
    return EmptyResult()


def list_associated_access_policies(self):
    cluster = _cluster(self)
    principal = self._get_param("principalArn")
    page, token = _paginate(list(_record(cluster, principal)["policies"].values()), self)
    return ActionResult(
        {"clusterName": cluster.name, "principalArn": principal, "associatedAccessPolicies": page, "nextToken": token}
    )


def list_access_policies(self):
    policies = [{"name": n, "arn": POLICY_PREFIX + n} for n in ACCESS_POLICIES]
    page, token = _paginate(policies, self)
    return ActionResult({"accessPolicies": page, "nextToken": token})


def for_admin(cluster):
    """Entries with their policies, JSON-ready, for part 2's token webhook."""

    def plain(value):
        return value.isoformat() if hasattr(value, "isoformat") else value

    return {
        "cluster": cluster.name,
        "authenticationMode": cluster.access_config["authenticationMode"],
        "bootstrapClusterCreatorAdminPermissions": cluster.access_config["bootstrapClusterCreatorAdminPermissions"],
        "creatorArn": cluster.sbx_creator_arn,
        "accessEntries": [
            {
                **{k: plain(v) for k, v in r["entry"].items()},
                "accessPolicies": [{k: plain(v) for k, v in p.items()} for p in r["policies"].values()],
            }
            for r in cluster.sbx_access_entries.values()
        ],
    }


HANDLERS = [
    create_access_entry,
    describe_access_entry,
    list_access_entries,
    update_access_entry,
    delete_access_entry,
    associate_access_policy,
    disassociate_access_policy,
    list_associated_access_policies,
    list_access_policies,
]


def apply(urls_module, response_cls):
    """Routes the access entry paths to moto's EKS dispatcher and adds the handlers."""
    dispatch = urls_module.response.dispatch
    urls_module.url_paths["{0}/clusters/(?P<name>[^/]+)/access-entries$"] = dispatch
    urls_module.url_paths["{0}/clusters/(?P<name>[^/]+)/access-entries/(?P<entry_path>.+)$"] = dispatch
    urls_module.url_paths["{0}/access-policies$"] = dispatch
    for handler in HANDLERS:
        setattr(response_cls, handler.__name__, handler)
