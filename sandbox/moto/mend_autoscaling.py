"""Auto Scaling mends: mixed instances policies launch what AWS launches.

moto 5.2.1 computes the spot/on-demand split with truncation and then launches only
`on_demand + spot` instances rounded down (base 1, 25% above base, desired 3 gives 2), takes
every instance's type from the launch template even when the policy's overrides name the
types, never marks spot instances, puts every instance in the first subnet, and
UpdateAutoScalingGroup without a MixedInstancesPolicy erases the stored one. It records no
scaling activities (DescribeScalingActivities answers an empty list); here each launch is one,
Successful, or Failed with EC2's message when it would pass the vCPU quota (mend_quotas).
"""

import copy
import math
import uuid

from moto.autoscaling.models import ASG_NAME_TAG, FakeAutoScalingGroup, InstanceState
from moto.autoscaling.responses import AutoScalingResponse
from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.ec2.models.instances import Instance

import mend_quotas


def capacity_split(policy, desired):
    """(on_demand, spot) instance counts for a desired capacity under a mixed instances policy.

    AWS fills OnDemandBaseCapacity first, then splits the rest by
    OnDemandPercentageAboveBaseCapacity, rounding the On-Demand share up.
    """
    if not policy or not policy.get("LaunchTemplate"):
        return desired, 0
    dist = policy.get("InstancesDistribution") or {}
    base = int(dist.get("OnDemandBaseCapacity") or 0)
    pct = dist.get("OnDemandPercentageAboveBaseCapacity")
    pct = 100 if pct is None else int(pct)
    if desired <= base:
        return desired, 0
    above = desired - base
    on_demand_above = math.ceil(above * pct / 100)
    return base + on_demand_above, above - on_demand_above


def _override_types(group):
    policy = group.mixed_instances_policy or {}
    overrides = (policy.get("LaunchTemplate") or {}).get("Overrides") or []
    return [o["InstanceType"] for o in overrides if o.get("InstanceType")]


def _is_spot(state):
    return getattr(state.instance, "lifecycle", None) == "spot"


def _placements(group):
    """[(subnet_id or None, zone)] the group may launch into, in the order given."""
    if group.vpc_zone_identifier:
        ids = [s for s in group.vpc_zone_identifier.split(",") if s]
        subnets = {s.id: s for s in group.ec2_backend.describe_subnets(subnet_ids=ids)}
        return [(i, subnets[i].availability_zone) for i in ids if i in subnets]
    return [(None, zone) for zone in group.availability_zones]


def _pick_placement(group, placements):
    # AWS balances capacity across Availability Zones: launch into the emptiest one.
    counts = {zone: 0 for _, zone in placements}
    for state in group.active_instances():
        zone = state.instance._placement.zone
        if zone in counts:
            counts[zone] += 1
    return min(placements, key=lambda p: counts[p[1]])


def _pick_type(group, spot):
    types = _override_types(group)
    if not types:
        return group.instance_type
    if not spot:
        # On-Demand allocation is "prioritized": the first override wins.
        return types[0]
    # Spot capacity is spread across the overrides' pools: take the least used type.
    used = {t: 0 for t in types}
    for state in group.active_instances():
        if _is_spot(state) and state.instance.instance_type in used:
            used[state.instance.instance_type] += 1
    return min(types, key=lambda t: used[t])


def _record(group, status, description, message=None):
    """A scaling activity of the group, newest first as DescribeScalingActivities lists them."""
    now = utcnow()
    activity = {
        "ActivityId": str(uuid.uuid4()),
        "AutoScalingGroupName": group.name,
        "AutoScalingGroupARN": group.arn,
        "Description": description,
        "Cause": f"At {now:%Y-%m-%dT%H:%M:%SZ} an instance was started in response to a difference between desired and actual capacity.",
        "StartTime": now,
        "EndTime": now,
        "StatusCode": status,
        "Progress": 100,
        "Details": "{}",
    }
    if message:
        activity["StatusMessage"] = message
    group.__dict__.setdefault("kc_activities", []).insert(0, activity)


def _launch_one(group, spot):
    instance_type = _pick_type(group, spot)
    refusal = mend_quotas.vcpu_refusal(mend_quotas.ec2_for(group), instance_type, spot)
    if refusal:
        # As on AWS: the launch fails, the group stays short of its desired capacity.
        _record(group, "Failed", "Launching a new EC2 instance.  Status Reason: " + refusal, refusal)
        return
    tags = group.get_propagated_tags()
    tags[ASG_NAME_TAG] = group.name
    tags.update(group.instance_tags)
    subnet_id, zone = _pick_placement(group, _placements(group))
    template = None
    if group.ec2_launch_template:
        template = {"LaunchTemplateId": group.ec2_launch_template.id}
    reservation = group.ec2_backend.run_instances(
        group.image_id,
        1,
        group.user_data,
        group.security_groups,
        instance_type=instance_type,
        tags={"instance": tags},
        placement=zone,
        launch_config=group.launch_config,
        launch_template=template,
        is_instance_type_default=False,
        associate_public_ip=group.launch_config.associate_public_ip_address if group.launch_config else None,
        subnet_id=subnet_id,
        instance_market_options={"MarketType": "spot"} if spot else None,
    )
    for instance in reservation.instances:
        _record(group, "Successful", f"Launching a new EC2 instance: {instance.id}")
        instance.autoscaling_group = group
        group.instance_states.append(
            InstanceState(instance, protected_from_scale_in=group.new_instances_protected_from_scale_in)
        )


def _scale_in(group, states, count):
    # AWS's default termination policy first keeps zones balanced: drop from the fullest zone.
    removable = [s for s in states if not s.protected_from_scale_in]
    chosen = []
    for _ in range(min(count, len(removable))):
        per_zone = {}
        for s in removable:
            per_zone.setdefault(s.instance._placement.zone, []).append(s)
        fullest = max(per_zone.values(), key=len)
        victim = fullest[-1]
        removable.remove(victim)
        chosen.append(victim)
    if chosen:
        group.ec2_backend.terminate_instances([s.instance.id for s in chosen])
        group.instance_states = [s for s in group.instance_states if s not in chosen]


def set_desired_capacity(self, new_capacity):
    self.desired_capacity = self.min_size if new_capacity is None else new_capacity
    on_demand_target, spot_target = capacity_split(self.mixed_instances_policy, self.desired_capacity or 0)
    active = self.active_instances()
    spot = [s for s in active if _is_spot(s)]
    on_demand = [s for s in active if not _is_spot(s)]
    _scale_in(self, spot, len(spot) - spot_target)
    _scale_in(self, on_demand, len(on_demand) - on_demand_target)
    for _ in range(on_demand_target - len(on_demand)):
        _launch_one(self, spot=False)
    for _ in range(spot_target - len(spot)):
        _launch_one(self, spot=True)
    if self.name in self.autoscaling_backend.autoscaling_groups:
        self.autoscaling_backend.update_attached_elbs(self.name)
        self.autoscaling_backend.update_attached_target_groups(self.name)


def replace_autoscaling_group_instances(self, count_needed, propagated_tags):
    # Called by moto for instance refreshes and replacements: keep the policy's split.
    for _ in range(count_needed):
        _launch_one(self, spot=False)


_original_update = FakeAutoScalingGroup.update


def update(self, *args, **kwargs):
    # AWS keeps the stored MixedInstancesPolicy unless the call replaces it or switches the
    # group to a plain launch template or launch configuration.
    if (
        kwargs.get("mixed_instances_policy") is None
        and self.mixed_instances_policy
        and not kwargs.get("launch_template")
        and not kwargs.get("launch_config_name")
    ):
        policy = copy.deepcopy(self.mixed_instances_policy)
        # moto stores both the template's id and name, and then refuses that pair as input.
        policy["LaunchTemplate"]["LaunchTemplateSpecification"].pop("LaunchTemplateName", None)
        kwargs["mixed_instances_policy"] = policy
    return _original_update(self, *args, **kwargs)


def describe_scaling_activities(self):
    name = self._get_param("AutoScalingGroupName")
    ids = self._get_param("ActivityIds", [])
    groups = self.autoscaling_backend.autoscaling_groups
    activities = [a for g in groups.values() if not name or g.name == name for a in g.__dict__.get("kc_activities", [])]
    if ids:
        activities = [a for a in activities if a["ActivityId"] in ids]
    return ActionResult({"Activities": activities[: int(self._get_param("MaxRecords") or 100)]})


def apply():
    """Installs the Auto Scaling mends on moto's classes."""
    AutoScalingResponse.describe_scaling_activities = describe_scaling_activities
    FakeAutoScalingGroup.set_desired_capacity = set_desired_capacity
    FakeAutoScalingGroup.replace_autoscaling_group_instances = replace_autoscaling_group_instances
    FakeAutoScalingGroup.update = update
    # DescribeInstances shows InstanceLifecycle ("spot") as AWS does; moto stores it as `lifecycle`.
    Instance.instance_lifecycle = property(lambda self: getattr(self, "lifecycle", None))
