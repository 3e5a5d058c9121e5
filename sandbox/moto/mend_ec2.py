"""EC2 security group and network interface mend: rules are matched as AWS matches them, and a
group that a rule of another group names, or that a network interface uses, cannot be deleted.

- AWS matches a rule to revoke by protocol, ports and source, whatever its description. moto
  5.2.1 compares the whole source-group entry (description included), so revoking a rule made
  with a description answered InvalidPermission.NotFound and left the rule in place.
- AWS refuses DeleteSecurityGroup (DependencyViolation) while a rule of another group names the
  group, or while a network interface uses it, attached or not (a load balancer's interfaces
  linger after it is deleted; the VPC CNI leaks interfaces). moto 5.2.1 deleted it and left the
  rule naming a group that no longer exists, and the interface in a group that does not.
- AWS refuses DeleteNetworkInterface on an attached interface (InvalidNetworkInterface.InUse);
  moto 5.2.1 deleted it from under its instance.
- On AWS the interfaces an instance is launched with are deleted when it terminates (unless the
  launch said DeleteOnTermination false), and the others are detached (available, still holding
  their groups). moto 5.2.1 kept every interface, attached to the terminated instance, so with
  the check above no group an instance was ever launched in could be deleted.
"""

import copy

from moto.ec2.exceptions import DependencyViolationError, EC2ClientError
from moto.ec2.models.instances import Instance
from moto.ec2.models.security_groups import SecurityGroupBackend, SecurityGroupRule
from moto.ec2.responses.elastic_network_interfaces import ElasticNetworkInterfaces

_original_eq = SecurityGroupRule.__eq__
_original_delete = SecurityGroupBackend._delete_security_group
_original_delete_interface = ElasticNetworkInterfaces.delete_network_interface
_original_prep_nics = Instance.prep_nics
_original_terminate = Instance.terminate


def _source_key(rule):
    group = rule.source_group or {}
    return group.get("GroupId") or group.get("GroupName")


def _rule_eq(self, other):
    if _source_key(self) != _source_key(other):
        return False
    saved = (self.source_group, other.source_group)
    self.source_group, other.source_group = {}, {}
    try:
        return _original_eq(self, other)
    finally:
        self.source_group, other.source_group = saved


def _delete_security_group(self, vpc_id, group_id):
    for groups in self.groups.values():
        for group in groups.values():
            if group.id == group_id:
                continue
            for rule in [*group.ingress_rules, *group.egress_rules]:
                if (rule.source_group or {}).get("GroupId") == group_id:
                    raise DependencyViolationError(f"resource {group_id} has a dependent object")
    for eni in self.enis.values():
        if any(g.id == group_id for g in eni.group_set):
            raise DependencyViolationError(f"resource {group_id} has a dependent object")
    return _original_delete(self, vpc_id, group_id)


def _delete_network_interface(self):
    eni_id = self._get_param("NetworkInterfaceId")
    eni = self.ec2_backend.enis.get(eni_id)
    if eni is not None and eni.status == "in-use":
        raise EC2ClientError("InvalidNetworkInterface.InUse", f"Interface: [{eni_id}] in use.")
    return _original_delete_interface(self)


def _explicitly_false(value):
    return value is False or str(value).lower() == "false"


def _prep_nics(self, nic_spec, *args, **kwargs):
    _original_prep_nics(self, nic_spec, *args, **kwargs)
    kept = {
        int(n.get("DeviceIndex", 0))
        for n in nic_spec or []
        if n.get("NetworkInterfaceId") or _explicitly_false(n.get("DeleteOnTermination"))
    }
    for index, nic in self.nics.items():
        if index not in kept:
            nic.delete_on_termination = True


def _terminate(self):
    # Terminating a terminated instance changes nothing (its interfaces are gone already).
    if self._state.name == "terminated":
        return copy.copy(self._state)
    kept = [nic for nic in self.nics.values() if not nic.delete_on_termination]
    previous = _original_terminate(self)
    for nic in kept:
        # Left in the instance's list, which moto reads the terminated instance's addresses from.
        nic.instance = None
        nic.attachment_id = None
        nic.attach_time = None
        nic.device_index = None
        nic.status = "available"
    return previous


def apply():
    SecurityGroupRule.__eq__ = _rule_eq
    SecurityGroupBackend._delete_security_group = _delete_security_group
    ElasticNetworkInterfaces.delete_network_interface = _delete_network_interface
    Instance.prep_nics = _prep_nics
    Instance.terminate = _terminate
