"""Runtime settings of the sandbox launcher, shared by the mends and the admin API.

One process-wide dict guarded by a lock: the admin API updates it while moto's request
threads read it. Kept in memory only: a launcher starts from the defaults, and each of part 2's
components announces its settings when it starts (so an AWS-only sandbox never waits for a
control plane that a previous run's watcher asked for).
"""

import threading

DEFAULTS = {
    # Minimum seconds a cluster stays CREATING / DELETING: AWS takes ~10 min; short here so people
    # see the phases, 0 for fast tests.
    "eksCreateDelaySeconds": 2.0,
    "eksDeleteDelaySeconds": 1.0,
    # True once part 2's cluster watcher runs: a cluster stays CREATING until its control
    # plane's endpoint and CA are published through the admin API.
    "requireControlPlane": False,
    # host:port of the sandbox registry proxy (part 2); None keeps AWS's ECR host names.
    "registryHost": None,
    "registryScheme": "https",
    # True once part 2 serves load balancers: each new load balancer's DNSName is a loopback
    # address of its own (127.a.b.n, a range per sandbox directory) instead of moto's unresolvable amazonaws.com name.
    "loadBalancerLoopback": False,
    # Seconds before a new IAM role can be assumed by a service (CodeBuild refuses a project
    # naming a younger role): AWS takes seconds to a minute to propagate IAM changes.
    "iamPropagationSeconds": 2.0,
    # Quota code -> value: what Service Quotas' GetServiceQuota answers as applied, and what the
    # sandbox enforces (mend_quotas). Empty: AWS's defaults.
    "quotas": {},
}

_lock = threading.Lock()
_values = dict(DEFAULTS)


def get(key):
    with _lock:
        return _values[key]


def snapshot():
    with _lock:
        return dict(_values)


def update(changes):
    """Applies a partial update; unknown keys and wrong types raise ValueError."""
    clean = {}
    for key, value in (changes or {}).items():
        if key not in DEFAULTS:
            raise ValueError(f"unknown setting {key!r}; known: {', '.join(sorted(DEFAULTS))}")
        if key.endswith("Seconds"):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"{key} must be a number >= 0")
            value = float(value)
        elif key in ("requireControlPlane", "loadBalancerLoopback"):
            if not isinstance(value, bool):
                raise ValueError(f"{key} must be true or false")
        elif key == "quotas":
            value = _quotas(value)
        elif key == "registryScheme":
            if value not in ("http", "https"):
                raise ValueError("registryScheme must be http or https")
        elif value is not None and not isinstance(value, str):
            raise ValueError(f"{key} must be a string or null")
        clean[key] = value
    with _lock:
        if "quotas" in clean:
            # Merged per code; null drops an override.
            merged = {**_values["quotas"], **clean["quotas"]}
            clean["quotas"] = {k: v for k, v in merged.items() if v is not None}
        _values.update(clean)
        current = dict(_values)
    return current


def _quotas(value):
    if not isinstance(value, dict):
        raise ValueError('quotas must be an object of quota codes to values, e.g. {"L-53DA6B97": 1}')
    import mend_quotas  # here: mend_quotas reads these settings

    for code, limit in value.items():
        if code not in mend_quotas.QUOTAS:
            raise ValueError(f"unknown quota {code!r}; the sandbox serves {', '.join(sorted(mend_quotas.QUOTAS))}")
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, (int, float)) or limit < 0):
            raise ValueError(f"quotas.{code} must be a number >= 0, or null to restore the default")
    return value
