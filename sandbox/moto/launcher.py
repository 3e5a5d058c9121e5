"""kubecontrol's sandbox AWS: moto 5.2.1, mended where an orchestrator depends on AWS's behaviour.

Patches moto's classes before the first request (see the mend_*.py files and docs/sandbox.md),
serves moto's DomainDispatcherApplication behind a thin WSGI layer with the admin API
(/_sandbox/...), writes the port it bound to a file, then seeds what an account already has.
The class patches are on moto's private internals: moto is pinned to 5.2.1 on purpose.
"""

import argparse
import json
import os
import sys
import threading
import time

T0 = time.monotonic()

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

MOTO_VERSION = "5.2.1"


def _check_moto():
    import moto

    if moto.__version__ != MOTO_VERSION:
        sys.exit(f"sandbox launcher: moto {moto.__version__} found, {MOTO_VERSION} required (the mends patch its internals)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--port-file", help="where to write the bound port once listening")
    parser.add_argument("--state-dir", required=True, help="the sandbox directory")
    parser.add_argument("--region", default="us-east-1")
    args = parser.parse_args(argv)

    # AWS accounts come with the AWS managed IAM policies (AmazonEKSClusterPolicy, ...); moto
    # loads them only when asked. About 0.05 s.
    os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    _check_moto()
    import seed

    os.makedirs(args.state_dir, exist_ok=True)
    seed_path = os.path.join(args.state_dir, "seed.json")
    ca_dir = os.path.join(args.state_dir, "ca")

    import mend_acm
    import mend_autoscaling
    import mend_codebuild
    import mend_core
    import mend_ec2
    import mend_ecr
    import mend_eks
    import mend_elbv2
    import mend_route53
    import mend_quotas
    import mend_ssm
    import mend_subnets

    mend_acm.apply()
    mend_autoscaling.apply()
    mend_codebuild.apply()
    mend_core.apply()
    mend_ec2.apply()
    mend_eks.apply()
    mend_ecr.apply()
    mend_elbv2.apply()
    mend_elbv2.set_loopback_base(args.state_dir)
    mend_route53.apply()
    mend_subnets.apply()
    mend_quotas.apply()  # after mend_subnets: wraps its CreateLoadBalancer and CreateCluster
    mend_ssm.apply(seed.read(seed_path).get("kubernetesVersions"))

    from moto.moto_api._internal.models import moto_api_backend
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    import admin

    state = {"ready": False}
    lock = threading.Lock()
    server = None

    def endpoint():
        return f"http://{args.host}:{server.server_port}"

    def run_seed(requirements=None):
        with lock:
            if requirements is not None:
                tmp = seed_path + ".tmp"
                with open(tmp, "w", encoding="utf-8") as f:
                    json.dump(requirements, f, indent=2)
                os.replace(tmp, seed_path)
            current = seed.read(seed_path)
            mend_ssm.extra_versions[:] = list(current.get("kubernetesVersions") or [])
            return seed.apply(endpoint(), args.region, ca_dir, current)

    def reset(requirements=None):
        with lock:
            moto_api_backend.reset()
        return run_seed(requirements)

    state["seed"] = run_seed
    state["reset"] = reset
    app = admin.AdminApp(DomainDispatcherApplication(create_backend_app), state)
    server = make_server(args.host, args.port, app, threaded=True)
    os.environ["MOTO_PORT"] = str(server.server_port)
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(str(server.server_port))
        os.replace(tmp, args.port_file)

    def initial_seed():
        try:
            run_seed()
            state["ready"] = True
            print(f"sandbox seeded, ready {time.monotonic() - T0:.1f}s after start", flush=True)
        except Exception as e:  # reported by /_sandbox/health and the log
            state["reason"] = f"seeding failed: {type(e).__name__}: {e}"
            raise

    threading.Thread(target=initial_seed, name="seed", daemon=True).start()
    print(f"sandbox moto {MOTO_VERSION} listening on {endpoint()} ({time.monotonic() - T0:.1f}s after start)", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
