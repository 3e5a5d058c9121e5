"""The EKS access entries API, which moto 5.2.1 lacks (its routes answer 404).

Implements CreateAccessEntry, DescribeAccessEntry, ListAccessEntries, UpdateAccessEntry,
DeleteAccessEntry, AssociateAccessPolicy, DisassociateAccessPolicy,
ListAssociatedAccessPolicies and ListAccessPolicies with AWS's shapes, defaults and errors
(restJson1: the error type in x-amzn-ErrorType). The data side is in eks_access_model.py.
"""

from moto.core.responses import ActionResult, EmptyResult
from moto.core.utils import utcnow
from moto.eks.exceptions import InvalidParameterException, InvalidRequestException

from eks_access_model import ACCESS_POLICIES, POLICY_PREFIX, associate, entry_not_found, new_entry


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
        raise entry_not_found()
    return record


def _paginate(items, response):
    max_results = int(response._get_param("maxResults") or 100)
    start = int(response._get_param("nextToken") or 0)
    page = items[start : start + max_results]
    token = str(start + max_results) if start + max_results < len(items) else None
    return page, token


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
