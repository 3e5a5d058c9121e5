"""Core mend: a request's region comes from its endpoint's host, never from its path.

moto 5.2.1 searches the whole URL for `.<region>.amazonaws.com`, so a path holding such a name
(an EKS access entry for an IAM Identity Center role, whose ARN has the path
/aws-reserved/sso.amazonaws.com/…) was read as a region, and the call failed with a 500.
"""

from urllib.parse import urlsplit

from moto.core.responses import BaseResponse

_original = BaseResponse.get_region_from_url


def _region_from_host(self, request, full_url):
    parts = urlsplit(full_url)
    return _original(self, request, f"{parts.scheme}://{parts.netloc}/")


def apply():
    BaseResponse.get_region_from_url = _region_from_host
