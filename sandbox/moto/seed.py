"""What an account already has: the seed applied at start and after every reset.

The requirements come from kubecontrol (`seed.json` in the sandbox directory, written from the
apps' specs and the company defaults). They are applied through the AWS API of this very
launcher with boto3, so the seeded resources are made exactly as a client would make them,
and re-applying is a no-op: everything is looked up first.
"""

import datetime
import json
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

import boto3
from botocore.config import Config

VPC_CIDR = "10.0.0.0/16"
PUBLIC_CIDRS = ["10.0.0.0/22", "10.0.4.0/22", "10.0.8.0/22", "10.0.12.0/22"]
PRIVATE_CIDRS = ["10.0.64.0/19", "10.0.96.0/19", "10.0.128.0/19", "10.0.160.0/19"]


def read(path):
    """The seed requirements in `path`, or an empty seed when there is none."""
    if not path or not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def _private_dir(path):
    """A directory only its owner may enter (0700), whatever the umask; kept so if it exists."""
    os.makedirs(path, mode=0o700, exist_ok=True)
    os.chmod(path, 0o700)


def _write_private(path, data):
    """Writes a key file that is its owner's alone (0600) from the moment it exists."""
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def ensure_ca(ca_dir):
    """The sandbox CA (created once): returns (cert, key) and leaves ca.pem/ca.key in ca_dir.

    Its key signs every certificate the sandbox's load balancers and registry present: the
    directory is 0700 and the key files 0600 (a sandbox is one user's; see docs/sandbox.md).
    """
    cert_path, key_path = os.path.join(ca_dir, "ca.pem"), os.path.join(ca_dir, "ca.key")
    _private_dir(ca_dir)
    if os.path.exists(key_path):
        os.chmod(key_path, 0o600)
    if os.path.exists(cert_path) and os.path.exists(key_path):
        with open(cert_path, "rb") as c, open(key_path, "rb") as k:
            return x509.load_pem_x509_certificate(c.read()), serialization.load_pem_private_key(k.read(), None)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubecontrol sandbox CA")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_private(key_path, _key_pem(key))
    tmp = cert_path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    os.replace(tmp, cert_path)
    return cert, key


def issue(ca_dir, domain):
    """A certificate for `domain` (and its wildcard) signed by the sandbox CA: (cert_pem, key_pem).

    Kept under ca_dir/certs so part 2's load balancers serve the same certificate ACM holds.
    """
    safe = domain.replace("*", "_wildcard")
    cert_path = os.path.join(ca_dir, "certs", f"{safe}.pem")
    key_path = os.path.join(ca_dir, "certs", f"{safe}.key")
    _private_dir(os.path.dirname(cert_path))
    if os.path.exists(key_path):
        os.chmod(key_path, 0o600)
    if os.path.exists(cert_path) and os.path.exists(key_path):
        with open(cert_path, "rb") as c, open(key_path, "rb") as k:
            return c.read(), k.read()
    ca_cert, ca_key = ensure_ca(ca_dir)
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domain)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=395))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(domain)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    cert_pem, key_pem = cert.public_bytes(serialization.Encoding.PEM), _key_pem(key)
    _write_private(key_path, key_pem)
    with open(cert_path, "wb") as f:
        f.write(cert_pem)
    return cert_pem, key_pem


def _clients(endpoint, region):
    config = Config(retries={"max_attempts": 3, "mode": "standard"})
    kwargs = dict(
        endpoint_url=endpoint, region_name=region, aws_access_key_id="sandbox", aws_secret_access_key="sandbox", config=config
    )
    return {name: boto3.client(name, **kwargs) for name in ("ec2", "route53", "acm", "secretsmanager", "iam", "sts")}


def _tags(pairs):
    return [{"Key": k, "Value": v} for k, v in pairs.items()]


def _seed_network(ec2, vpc_tag, zones):
    key, _, value = vpc_tag.partition("=")
    found = ec2.describe_vpcs(Filters=[{"Name": f"tag:{key}", "Values": [value]}])["Vpcs"]
    if found:
        return found[0]["VpcId"]
    vpc_id = ec2.create_vpc(CidrBlock=VPC_CIDR)["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": True})
    ec2.create_tags(Resources=[vpc_id], Tags=_tags({key: value, "Name": f"kubecontrol-{value}"}))
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
    for i, zone in enumerate(zones[: len(PUBLIC_CIDRS)]):
        for tier, cidr, role in (("public", PUBLIC_CIDRS[i], "elb"), ("private", PRIVATE_CIDRS[i], "internal-elb")):
            subnet = ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr, AvailabilityZone=zone)["Subnet"]["SubnetId"]
            tags = {key: value, "Name": f"kubecontrol-{value}-{tier}-{zone}", f"kubernetes.io/role/{role}": "1"}
            ec2.create_tags(Resources=[subnet], Tags=_tags(tags))
            if tier == "public":
                ec2.modify_subnet_attribute(SubnetId=subnet, MapPublicIpOnLaunch={"Value": True})
    return vpc_id


def _seed_zones(route53, zones):
    existing = {z["Name"].rstrip(".") for z in route53.list_hosted_zones()["HostedZones"]}
    for zone in zones:
        if zone.rstrip(".") not in existing:
            route53.create_hosted_zone(Name=zone, CallerReference=f"kubecontrol-sandbox-{zone}")


ALL_KEY_TYPES = ["RSA_1024", "RSA_2048", "RSA_3072", "RSA_4096", "EC_prime256v1", "EC_secp384r1", "EC_secp521r1"]


def _seed_certificates(acm, ca_dir, domains):
    # the sandbox CA's certificates are ECDSA: ListCertificates shows them only when asked
    listed = acm.list_certificates(Includes={"keyTypes": ALL_KEY_TYPES})["CertificateSummaryList"]
    existing = {c["DomainName"] for c in listed}
    with open(os.path.join(ca_dir, "ca.pem"), "rb") as f:
        chain = f.read()
    for domain in domains:
        if domain in existing:
            continue
        cert_pem, key_pem = issue(ca_dir, domain)
        acm.import_certificate(Certificate=cert_pem, PrivateKey=key_pem, CertificateChain=chain)


def _seed_principals(iam, arns):
    """The IAM roles and users the apps name (cluster.admins), with their paths: EKS refuses an
    access entry for a principal that does not exist."""
    for arn in arns:
        kind_path = arn.split(":", 5)[5]
        kind, _, rest = kind_path.partition("/")
        path, _, name = rest.rpartition("/")
        path = f"/{path}/" if path else "/"
        try:
            if kind == "role":
                iam.create_role(RoleName=name, Path=path, AssumeRolePolicyDocument=json.dumps(_TRUST_ACCOUNT))
            elif kind == "user":
                iam.create_user(UserName=name, Path=path)
        except iam.exceptions.EntityAlreadyExistsException:
            pass


_TRUST_ACCOUNT = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
}


def _seed_secrets(sm, secrets):
    for secret in secrets:
        name, keys = secret["name"], secret.get("keys") or []
        try:
            current = json.loads(sm.get_secret_value(SecretId=name).get("SecretString") or "{}")
        except sm.exceptions.ResourceNotFoundException:
            current = None
        wanted = dict(current or {})
        for key in keys:
            wanted.setdefault(key, f"sandbox-{name.replace('/', '-')}-{key}")
        if current is None:
            sm.create_secret(Name=name, SecretString=json.dumps(wanted))
        elif wanted != current:
            sm.put_secret_value(SecretId=name, SecretString=json.dumps(wanted))


def apply(endpoint, region, ca_dir, requirements):
    """Creates what the requirements name and is missing; returns a summary."""
    ensure_ca(ca_dir)
    clients = _clients(endpoint, region)
    zones = requirements.get("zones") or [f"{region}a", f"{region}b", f"{region}c"]
    tags = requirements.get("vpcTags") or [requirements.get("vpcTag") or "kubecontrol:vpc=main"]
    vpc_ids = [_seed_network(clients["ec2"], tag, zones) for tag in tags]
    _seed_zones(clients["route53"], requirements.get("hostedZones") or [])
    _seed_certificates(clients["acm"], ca_dir, requirements.get("certificateDomains") or [])
    _seed_secrets(clients["secretsmanager"], requirements.get("secrets") or [])
    # whoever calls with the sandbox's own credentials (moto answers GetCallerIdentity with user/moto)
    caller = clients["sts"].get_caller_identity()["Arn"].replace(":sts::", ":iam::")
    _seed_principals(clients["iam"], [caller, *(requirements.get("iamPrincipals") or [])])
    return {"vpcIds": vpc_ids, "zones": zones}
