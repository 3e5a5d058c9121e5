"""Service Quotas mend: the quotas kubecontrol reads, answered and enforced.

moto 5.2.1's Service Quotas knows only VPC's quotas and has no GetAWSDefaultServiceQuota. Here
GetServiceQuota and GetAWSDefaultServiceQuota answer for the load balancer, EKS cluster and vCPU
quotas too, with AWS's defaults; an operator lowers one with the launcher setting `quotas`
(`{"L-53DA6B97": 1}`), which GetServiceQuota then answers as the applied value. As on AWS, a
quota that was never raised has no applied value: GetServiceQuota answers NoSuchResourceException
for the load balancer and cluster quotas until the setting names them (callers fall back to the
default). The vCPU quotas always have an applied value.

The same values are enforced, as AWS does: CreateLoadBalancer past the quota fails with
TooManyLoadBalancers, CreateCluster with ResourceLimitExceededException, and an Auto Scaling
launch that would take the running vCPUs of its class (standard, G and VT, P, Inf, Trn) past the
quota fails (mend_autoscaling records it as a Failed scaling activity, with EC2's message).
"""

import json

from moto.core.exceptions import JsonRESTError
from moto.ec2.models import ec2_backends
from moto.eks.exceptions import EKSError
from moto.eks.models import EKSBackend
from moto.elbv2.exceptions import ELBClientError
from moto.elbv2.models import ELBv2Backend
from moto.servicequotas.exceptions import NoSuchResource
from moto.servicequotas.responses import ServiceQuotasResponse

import settings

ALB = "L-53DA6B97"
NLB = "L-69A177A2"
EKS_CLUSTERS = "L-1194D53C"
EC2 = ("ec2", "Amazon Elastic Compute Cloud (Amazon EC2)")

# vCPU quota classes of instance families: (families, on-demand code, spot code).
VCPU_CLASSES = {
    "standard": ("Standard (A, C, D, H, I, M, R, T, Z)", "L-1216C47A", "L-34B43A08"),
    "gvt": ("G and VT", "L-DB2E81BA", "L-3819A6DF"),
    "p": ("P", "L-417A185B", "L-7212CCBC"),
    "inf": ("Inf", "L-1945791B", "L-B5D1601B"),
    "trn": ("Trn", "L-2C3B7624", "L-6B0D517C"),
}
ON_DEMAND_VCPUS, SPOT_VCPUS = VCPU_CLASSES["standard"][1:]

# code: (service code, service name, quota name, AWS default, applied value when never raised)
# The vCPU values are an account in use (new accounts start lower, accelerated classes often at
# 0), so a sandbox runs many apps.
QUOTAS = {
    ALB: ("elasticloadbalancing", "Elastic Load Balancing (ELB)", "Application Load Balancers per Region", 50.0, None),
    NLB: ("elasticloadbalancing", "Elastic Load Balancing (ELB)", "Network Load Balancers per Region", 50.0, None),
    EKS_CLUSTERS: ("eks", "Amazon Elastic Kubernetes Service (Amazon EKS)", "Clusters", 100.0, None),
}
for _cls, (_families, _on_demand, _spot) in VCPU_CLASSES.items():
    _value = 1024.0 if _cls == "standard" else 256.0
    QUOTAS[_on_demand] = (*EC2, f"Running On-Demand {_families} instances", _value, _value)
    QUOTAS[_spot] = (*EC2, f"All {_families} Spot Instance Requests", _value, _value)

# Families that start with a standard letter but have quotas of their own.
NOT_STANDARD = ("inf", "trn", "hpc", "dl", "mac", "vt", "u-", "f", "g", "p", "x")


def vcpu_class(instance_type):
    """The vCPU quota class of an instance type, None for the families not served here."""
    family = instance_type.split(".")[0].lower()
    if family.startswith("inf"):
        return "inf"
    if family.startswith("trn"):
        return "trn"
    if family.startswith(("vt", "g")):
        return "gvt"
    if family.startswith("p"):
        return "p"
    if family[:1] in "acdhimrtz" and not family.startswith(NOT_STANDARD):
        return "standard"
    return None


def is_standard(instance_type):
    """True when the type counts against the standard (A, C, D, H, I, M, R, T, Z) vCPU quotas."""
    return vcpu_class(instance_type) == "standard"


def applied(code):
    """The value GetServiceQuota answers: the operator's, else the applied one; None when never raised."""
    override = settings.get("quotas").get(code)
    return float(override) if override is not None else QUOTAS[code][4]


def effective(code):
    """The limit AWS enforces: the applied value, else the default."""
    value = applied(code)
    return QUOTAS[code][3] if value is None else value


def _quota(self, code, value):
    service, service_name, name, _, _ = QUOTAS[code]
    return {
        "ServiceCode": service,
        "ServiceName": service_name,
        "QuotaArn": f"arn:aws:servicequotas:{self.region}:{self.current_account}:{service}/{code}",
        "QuotaCode": code,
        "QuotaName": name,
        "Value": value,
        "Unit": "None",
        "Adjustable": True,
        "GlobalQuota": False,
    }


def _lookup(self):
    params = json.loads(self.body or "{}")
    code = params.get("QuotaCode")
    if code not in QUOTAS or QUOTAS[code][0] != params.get("ServiceCode"):
        return None
    return code


_original_get = ServiceQuotasResponse.get_service_quota


def get_service_quota(self):
    code = _lookup(self)
    if code is None:
        return _original_get(self)
    value = applied(code)
    if value is None:
        raise NeverRaised()
    return json.dumps({"Quota": _quota(self, code, value)})


def get_aws_default_service_quota(self):
    code = _lookup(self)
    if code is None:
        params = json.loads(self.body or "{}")
        for quota in self.backend.list_aws_default_service_quotas(str(params.get("ServiceCode"))):
            if quota["QuotaCode"] == params.get("QuotaCode"):
                return json.dumps({"Quota": quota})
        raise NoSuchResource
    return json.dumps({"Quota": _quota(self, code, QUOTAS[code][3])})


class NeverRaised(JsonRESTError):
    def __init__(self):
        super().__init__("NoSuchResourceException", "The request failed because the specified resource does not exist.")


class TooManyLoadBalancers(ELBClientError):
    def __init__(self):
        super().__init__("TooManyLoadBalancers", "The quota for the number of load balancers has been reached")


class ResourceLimitExceededException(EKSError):
    TYPE = "ResourceLimitExceededException"
    STATUS = 400


def vcpus(ec2, instance_type):
    """Default vCPUs of an instance type (DescribeInstanceTypes' VCpuInfo), 0 when unknown."""
    try:
        info = ec2.describe_instance_types([instance_type])[0]
    except Exception:  # an unknown type: moto's own checks answer for it
        return 0
    return int((info.get("VCpuInfo") or {}).get("DefaultVCpus") or 0)


def vcpu_refusal(ec2, instance_type, spot):
    """EC2's message when launching one more instance of this type would pass its vCPU quota, else None."""
    cls = vcpu_class(instance_type)
    if cls is None:
        return None
    code = VCPU_CLASSES[cls][2 if spot else 1]
    used = 0
    for instance in ec2.all_instances():
        if (
            instance._state.name in ("pending", "running")
            and vcpu_class(instance.instance_type) == cls
            and (getattr(instance, "lifecycle", None) == "spot") == spot
        ):
            used += vcpus(ec2, instance.instance_type)
    limit = effective(code)
    if used + vcpus(ec2, instance_type) <= limit:
        return None
    if spot:
        return f"Max spot instance count exceeded (vCPU limit of {limit:g} for {QUOTAS[code][2]}). Launching EC2 instance failed."
    return (
        f"You have requested more vCPU capacity than your current vCPU limit of {limit:g} allows for the instance "
        "bucket that the specified instance type belongs to. Please visit http://aws.amazon.com/contact-us/ec2-request "
        "to request an adjustment to this limit. Launching EC2 instance failed."
    )


def ec2_for(group):
    return ec2_backends[group.autoscaling_backend.account_id][group.autoscaling_backend.region_name]


def apply():
    """Installs the Service Quotas answers and the quota checks (after mend_subnets, which it wraps)."""
    ServiceQuotasResponse.get_service_quota = get_service_quota
    ServiceQuotasResponse.get_aws_default_service_quota = get_aws_default_service_quota

    create_lb = ELBv2Backend.create_load_balancer
    create_cluster = EKSBackend.create_cluster

    def create_load_balancer(self, name, *args, loadbalancer_type=None, **kwargs):
        kind = loadbalancer_type or "application"
        code = {"application": ALB, "network": NLB}.get(kind)
        if code and name not in [lb.name for lb in self.load_balancers.values()]:
            same = [lb for lb in self.load_balancers.values() if lb.type == kind]
            if len(same) >= effective(code):
                raise TooManyLoadBalancers()
        return create_lb(self, name, *args, loadbalancer_type=loadbalancer_type, **kwargs)

    def create_eks_cluster(self, name, *args, **kwargs):
        if name not in self.clusters and len(self.clusters) >= effective(EKS_CLUSTERS):
            raise ResourceLimitExceededException(
                message=f"Cannot create cluster {name}: the account has reached its limit of {effective(EKS_CLUSTERS):g} clusters in {self.region_name}",
                clusterName=name,
            )
        return create_cluster(self, name, *args, **kwargs)

    ELBv2Backend.create_load_balancer = create_load_balancer
    EKSBackend.create_cluster = create_eks_cluster
