"""Subnet rules of ELBv2 and EKS, as AWS applies them.

- CreateLoadBalancer: at most one subnet per Availability Zone, and an Application Load Balancer
  needs subnets in at least two (moto 5.2.1 takes any list of subnets).
- CreateCluster: subnets in at least two zones, none in a zone EKS places no control plane in
  (UnsupportedAvailabilityZoneException, naming the zones it does serve).
"""

from moto.ec2.models import ec2_backends
from moto.eks.exceptions import EKSError, InvalidParameterException
from moto.eks.models import EKSBackend
from moto.elbv2.exceptions import InvalidConfigurationRequest
from moto.elbv2.models import ELBv2Backend

EKS_UNSUPPORTED_ZONE_IDS = {"use1-az3", "usw1-az2", "cac1-az3"}

_original_create_lb = ELBv2Backend.create_load_balancer
_original_create_cluster = EKSBackend.create_cluster


class UnsupportedAvailabilityZoneException(EKSError):
    TYPE = "UnsupportedAvailabilityZoneException"
    STATUS = 400


def _subnets(ec2, ids):
    """The subnets of these ids that exist (moto's own checks answer for the others)."""
    found = []
    for subnet_id in ids:
        try:
            subnet = ec2.get_subnet(subnet_id)
        except Exception:  # moto's InvalidSubnetIdError: left to moto's own answer
            continue
        if subnet is not None:
            found.append(subnet)
    return found


def _create_load_balancer(self, name, security_groups, subnet_ids, subnet_mappings=None, scheme="internet-facing", loadbalancer_type=None, **kwargs):
    ids = list(subnet_ids or []) + [m["SubnetId"] for m in subnet_mappings or []]
    subnets = _subnets(self.ec2_backend, ids)
    zones = [s.availability_zone for s in subnets]
    if len(set(zones)) < len(zones):
        raise InvalidConfigurationRequest("A load balancer cannot be attached to multiple subnets in the same Availability Zone")
    if (loadbalancer_type or "application") == "application" and subnets and len(set(zones)) < 2:
        raise InvalidConfigurationRequest("At least two subnets in two different Availability Zones must be specified")
    return _original_create_lb(
        self, name, security_groups, subnet_ids, subnet_mappings=subnet_mappings, scheme=scheme, loadbalancer_type=loadbalancer_type, **kwargs
    )


def _create_cluster(self, name, role_arn, resources_vpc_config, *args, **kwargs):
    ec2 = ec2_backends[self.account_id][self.region_name]
    subnets = _subnets(ec2, (resources_vpc_config or {}).get("subnetIds") or [])
    unserved = sorted({s.availability_zone for s in subnets if getattr(s, "availability_zone_id", None) in EKS_UNSUPPORTED_ZONE_IDS})
    if unserved:
        served = sorted({z.name for z in ec2.describe_availability_zones() if z.zone_id not in EKS_UNSUPPORTED_ZONE_IDS})
        raise UnsupportedAvailabilityZoneException(
            message=f"Cannot create cluster '{name}' because {', '.join(unserved)}, the targeted availability zone, does not currently have sufficient capacity to support the cluster. Retry and choose from these availability zones: {', '.join(served)}",
            clusterName=name,
            validZones=served,
        )
    if subnets and len({s.availability_zone for s in subnets}) < 2:
        raise InvalidParameterException(
            message="Subnets specified must be in at least two different AZs", clusterName=name
        )
    return _original_create_cluster(self, name, role_arn, resources_vpc_config, *args, **kwargs)


def apply():
    ELBv2Backend.create_load_balancer = _create_load_balancer
    EKSBackend.create_cluster = _create_cluster
