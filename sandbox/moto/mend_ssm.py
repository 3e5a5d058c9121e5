"""SSM mend: the EKS-optimized AMI parameters exist, as in every AWS account.

Names under /aws/ are reserved (PutParameter refuses them), and moto 5.2.1 ships no EKS
entries, so the launcher loads them into moto's parameter store the first time a name under
/aws/service/eks/ is read, and registers a matching AMI in EC2 so DescribeImages finds it.
"""

import hashlib

from moto.core.utils import utcnow
from moto.ssm.models import Parameter, ParameterDict

PREFIX = "/aws/service/eks/optimized-ami"
VERSIONS = ["1.31", "1.32", "1.33", "1.34", "1.35"]
# (architecture, variant) pairs EKS publishes for AL2023: plain, NVIDIA GPUs, AWS Neuron (x86 only).
VARIANTS = [("x86_64", "standard"), ("arm64", "standard"), ("x86_64", "nvidia"), ("arm64", "nvidia"), ("x86_64", "neuron")]
_original_check = ParameterDict._check_loading_status
extra_versions = []


def ami_id(region, version, arch, variant="standard"):
    """A stable AMI id per region, Kubernetes version, architecture and variant."""
    key = f"{region}/{version}/{arch}" + ("" if variant == "standard" else f"/{variant}")
    return "ami-" + hashlib.sha256(key.encode()).hexdigest()[:17]


def _register_ami(account_id, region, image_id, version, arch, variant):
    from moto.ec2.models import ec2_backends
    from moto.ec2.models.amis import Ami

    ec2 = ec2_backends[account_id][region]
    if image_id in ec2.amis:
        return
    ec2.amis[image_id] = Ami(
        ec2,
        ami_id=image_id,
        name=f"amazon-eks-node-al2023-{arch}-{variant}-{version}-v20251101",
        description=f"EKS-optimized Kubernetes node based on Amazon Linux 2023, ({version}) {arch}",
        owner_id="602401143452",
        owner_alias="amazon",
        public=True,
        virtualization_type="hvm",
        architecture=arch,
        root_device_type="ebs",
        root_device_name="/dev/xvda",
        region_name=region,
    )


def _load_eks_amis(store):
    for version in sorted(set(VERSIONS + extra_versions)):
        for arch, variant in VARIANTS:
            name = f"{PREFIX}/{version}/amazon-linux-2023/{arch}/{variant}/recommended/image_id"
            image_id = ami_id(store.region_name, version, arch, variant)
            _register_ami(store.account_id, store.region_name, image_id, version, arch, variant)
            if not dict.__contains__(store, name):
                dict.__setitem__(store, name, [
                    Parameter(
                        account_id=store.account_id,
                        name=name,
                        value=image_id,
                        parameter_type="String",
                        description=None,
                        allowed_pattern=None,
                        keyid=None,
                        last_modified_date=utcnow(),
                        version=1,
                        data_type="aws:ec2:image",
                    )
                ])


def _check_loading_status(self, key):
    _original_check(self, key)
    key = str(key or "")
    wanted = key.startswith("/aws/service/eks") or (key and "/aws/service/eks".startswith(key.rstrip("/")))
    if wanted and not getattr(self, "sbx_eks_amis_loaded", False):
        self.sbx_eks_amis_loaded = True
        _load_eks_amis(self)


def apply(versions=None):
    """Installs the SSM mend; `versions` adds Kubernetes versions beyond the supported range."""
    extra_versions[:] = list(versions or [])
    ParameterDict._check_loading_status = _check_loading_status
