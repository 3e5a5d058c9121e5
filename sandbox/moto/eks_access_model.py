"""EKS access entries as data: validation, AWS's defaults, policies, the creator's bootstrap entry.

Entries live on the cluster object (`cluster.sbx_access_entries`: principal ARN -> {"entry",
"policies"}), so they go with the cluster and with a moto reset. The API handlers are in
eks_access_entries.py.
"""

import re
import uuid

from moto.core.utils import utcnow
from moto.eks.exceptions import (
    InvalidParameterException,
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


def entry_not_found():
    """AWS's answer for an unknown principal."""
    return ResourceNotFoundException(
        clusterName=None, nodegroupName=None, fargateProfileName=None, addonName=None, message=ENTRY_NOT_FOUND
    )


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
    if not _existing_principal(principal, partition, account, kind, name):
        raise InvalidParameterException(message=f"The specified principalArn is invalid: invalid principal {principal}")
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


def _existing_principal(principal, partition, account, kind, name):
    """Whether `principal` is the exact ARN of an IAM role or user of the account, path included.

    EKS refuses an access entry for anything else ("invalid principal"): a role's ARN without its
    path (as an assumed-role session's ARN suggests), or a role or user that does not exist.
    """
    from moto.iam.models import iam_backends

    iam = iam_backends[account][partition]
    if kind == "role":
        return any(r.name == name and r.arn == principal for r in iam.roles.values())
    user = iam.users.get(name)
    return user is not None and user.arn == principal
