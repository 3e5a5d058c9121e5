"""ELBv2 mends: target health comes from the sandbox, not from registration; loopback DNS names.

moto 5.2.1 reports every registered target healthy at once. AWS reports `unused`
(Target.NotInUse) while no load balancer forwards to the group, then `initial`
(Elb.RegistrationInProgress) until health checks pass; here a target stays `initial` until
part 2 publishes its health through the admin API (POST /_sandbox/elbv2/target-health).
"""

import hashlib
import ipaddress
import os

from moto.elbv2.models import FakeHealthStatus, FakeLoadBalancer, FakeTargetGroup, elbv2_backends

import settings

REASONS = {
    "initial": ("Elb.RegistrationInProgress", "Target registration is in progress"),
    "unhealthy": ("Target.FailedHealthChecks", "Health checks failed"),
    "draining": ("Target.DeregistrationInProgress", "Target deregistration is in progress"),
    "unavailable": ("Elb.InternalError", "Health checks are unavailable"),
}
STATES = ("initial", "healthy", "unhealthy", "unused", "draining", "unavailable")

_original_health_for = FakeTargetGroup.health_for


def _health_for(self, target, ec2_backend):
    status = _original_health_for(self, target, ec2_backend)
    if status.status != "healthy":
        return status
    if not self.load_balancer_arns:
        # As AWS: a group no listener or rule forwards to does not health-check its targets.
        return FakeHealthStatus(
            status.instance_id,
            status.port,
            self.health_check_port,
            "unused",
            "Target.NotInUse",
            "Target group is not configured to receive traffic from the load balancer",
        )
    published = getattr(self, "sbx_health", {}).get((status.instance_id, str(status.port)))
    state, reason, description = published or ("initial", None, None)
    if state != "healthy" and reason is None:
        reason, description = REASONS.get(state, (None, None))
    return FakeHealthStatus(status.instance_id, status.port, self.health_check_port, state, reason, description)


def publish(target_group, targets):
    """Stores published health for (id, port) pairs of one target group."""
    store = target_group.__dict__.setdefault("sbx_health", {})
    for t in targets:
        state = t.get("state")
        if state not in STATES:
            raise ValueError(f"state must be one of {', '.join(STATES)}")
        port = t.get("port", target_group.port)
        reason = t.get("reason")
        store[(t["id"], str(port))] = (state, reason, t.get("description") or reason)
    return len(targets)


_original_lb_init = FakeLoadBalancer.__init__
LOOPBACK_BASE = int(ipaddress.ip_address("127.1.0.1"))


def set_loopback_base(sandbox_dir):
    """Gives each sandbox its own 127.a.b.0/24 range (from a hash of its directory), so two
    sandboxes on one machine never hand out the same load balancer address."""
    global LOOPBACK_BASE
    digest = hashlib.sha256(os.path.realpath(sandbox_dir).encode()).digest()
    LOOPBACK_BASE = int(ipaddress.ip_address(f"127.{16 + digest[0] % 224}.{digest[1]}.1"))


def _taken_addresses():
    taken = set()
    for by_region in elbv2_backends.values():
        for backend in by_region.values():
            taken.update(lb.dns_name for lb in backend.load_balancers.values())
    return taken


def _lb_init(self, *args, **kwargs):
    if settings.get("loadBalancerLoopback"):
        taken = _taken_addresses()
        n = 0
        while str(ipaddress.ip_address(LOOPBACK_BASE + n)) in taken:
            n += 1
        kwargs["dns_name"] = str(ipaddress.ip_address(LOOPBACK_BASE + n))
    _original_lb_init(self, *args, **kwargs)


def apply():
    """Installs the ELBv2 mends on moto's classes."""
    FakeTargetGroup.health_for = _health_for
    FakeLoadBalancer.__init__ = _lb_init
