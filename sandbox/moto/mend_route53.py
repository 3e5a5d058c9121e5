"""Route 53 mend: an alias to an Application Load Balancer reads back as `dualstack.<name>`.

AWS answers for an alias to an Application (or Classic) Load Balancer of the same account with
the load balancer's DNS name prefixed by `dualstack.`, as the console writes it; moto 5.2.1
returns the name as it was sent. Code that compares the name it wrote with the one it reads
must ignore the prefix, or every re-run changes the record again.
"""

from moto.route53.models import RecordSet

_original_init = RecordSet.__init__
PREFIX = "dualstack."


def _trim(name):
    return (name or "").lower().rstrip(".")


def _is_application_lb(zone_id, dns_name):
    from moto.elbv2.models import elbv2_backends

    for by_region in elbv2_backends.values():
        for backend in by_region.values():
            for lb in backend.load_balancers.values():
                if (
                    lb.type == "application"
                    and lb.canonical_hosted_zone_id == zone_id
                    and _trim(lb.dns_name) == _trim(dns_name)
                ):
                    return True
    return False


def _init(self, kwargs):
    _original_init(self, kwargs)
    alias = self.alias_target
    if not isinstance(alias, dict):
        return
    name = alias.get("DNSName") or ""
    if not _trim(name).startswith(PREFIX) and _is_application_lb(alias.get("HostedZoneId"), name):
        self.alias_target = {**alias, "DNSName": PREFIX + name}


def apply():
    RecordSet.__init__ = _init
