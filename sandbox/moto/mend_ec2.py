"""EC2 security group mend: rules are matched as AWS matches them, and a group another group's
rule names cannot be deleted.

- AWS matches a rule to revoke by protocol, ports and source, whatever its description. moto
  5.2.1 compares the whole source-group entry (description included), so revoking a rule made
  with a description answered InvalidPermission.NotFound and left the rule in place.
- AWS refuses DeleteSecurityGroup (DependencyViolation) while a rule of another group names the
  group. moto 5.2.1 deleted it and left the rule naming a group that no longer exists.
"""

from moto.ec2.exceptions import DependencyViolationError
from moto.ec2.models.security_groups import SecurityGroupBackend, SecurityGroupRule

_original_eq = SecurityGroupRule.__eq__
_original_delete = SecurityGroupBackend._delete_security_group


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
    return _original_delete(self, vpc_id, group_id)


def apply():
    SecurityGroupRule.__eq__ = _rule_eq
    SecurityGroupBackend._delete_security_group = _delete_security_group
