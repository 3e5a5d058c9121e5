"""ACM mend: ListCertificates answers as AWS does.

Without `Includes.keyTypes`, AWS lists only RSA_1024 and RSA_2048 certificates (moto 5.2.1 lists
every key type, so code that forgot the filter found the sandbox's ECDSA certificates anyway).
Each summary has AWS's shape: the alternative names as SubjectAlternativeNameSummaries (and
HasAdditionalSubjectAlternativeNames), not the full description moto returns.
"""

import json

from moto.acm.responses import AWSCertificateManagerResponse

DEFAULT_KEY_TYPES = ["RSA_1024", "RSA_2048"]
SUMMARY_SAN_LIMIT = 100
SUMMARY_FIELDS = (
    "CertificateArn",
    "DomainName",
    "Status",
    "Type",
    "KeyAlgorithm",
    "KeyUsages",
    "ExtendedKeyUsages",
    "InUse",
    "Exported",
    "RenewalEligibility",
    "NotBefore",
    "NotAfter",
    "CreatedAt",
    "IssuedAt",
    "ImportedAt",
    "RevokedAt",
)


def _list_certificates(self):
    statuses = self._get_param("CertificateStatuses")
    includes = dict(self._get_param("Includes") or {})
    if not includes.get("keyTypes"):
        includes["keyTypes"] = DEFAULT_KEY_TYPES
    summaries = []
    for bundle in self.acm_backend.list_certificates(statuses, includes):
        described = bundle.describe()["Certificate"]
        described["InUse"] = bool(described.pop("InUseBy", []))
        described["Exported"] = bundle.cert_options.get("Export") == "ENABLED"
        sans = described.get("SubjectAlternativeNames") or []
        summary = {k: described[k] for k in SUMMARY_FIELDS if k in described}
        summary["SubjectAlternativeNameSummaries"] = sans[:SUMMARY_SAN_LIMIT]
        summary["HasAdditionalSubjectAlternativeNames"] = len(sans) > SUMMARY_SAN_LIMIT
        summaries.append(summary)
    return json.dumps({"CertificateSummaryList": summaries})


def apply():
    AWSCertificateManagerResponse.list_certificates = _list_certificates
