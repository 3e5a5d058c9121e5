"""The sandbox's admin API under /_sandbox/, served beside moto by the launcher.

Part 2 (cluster watcher, registry proxy, load balancers) and kubecontrol's own lifecycle call
these; AWS clients never do. docs/sandbox.md lists every endpoint.
"""

import json
import re
import traceback

from werkzeug.wrappers import Request, Response

import eks_access_model
import mend_eks
import mend_elbv2
import settings


def _json(body, status=200):
    return Response(json.dumps(body, default=str), status=status, mimetype="application/json")


def _error(status, message):
    return _json({"error": message}, status)


def _eks_backends():
    from moto.eks.models import eks_backends

    for by_region in list(eks_backends.values()):
        for backend in list(by_region.values()):
            yield backend


def _find_cluster(name):
    for backend in _eks_backends():
        mend_eks.purge_deleted(backend)
        if name in backend.clusters:
            return backend, backend.clusters[name]
    return None, None


def _list_clusters():
    out = []
    for backend in _eks_backends():
        mend_eks.purge_deleted(backend)
        out.extend(mend_eks.describe_for_admin(c) for c in backend.clusters.values())
    return out


def _publish_control_plane(name, body):
    endpoint, ca = body.get("endpoint"), body.get("certificateAuthority")
    if not isinstance(endpoint, str) or not endpoint.startswith("https://") or not isinstance(ca, str) or not ca:
        return _error(400, "body must be {endpoint: 'https://...', certificateAuthority: '<base64 PEM>'}")
    backend, cluster = _find_cluster(name)
    if cluster is None:
        return _error(404, f"no EKS cluster named {name}")
    mend_eks.publish_control_plane(backend, name, endpoint, ca)
    return _json(mend_eks.describe_for_admin(cluster))


def _target_health(body):
    from moto.elbv2.models import elbv2_backends

    arn, targets = body.get("targetGroupArn"), body.get("targets")
    if not isinstance(arn, str) or not isinstance(targets, list):
        return _error(400, "body must be {targetGroupArn, targets: [{id, port, state, reason?}]}")
    for by_region in elbv2_backends.values():
        for backend in by_region.values():
            group = backend.target_groups.get(arn)
            if group is not None:
                try:
                    return _json({"updated": mend_elbv2.publish(group, targets)})
                except (ValueError, KeyError) as e:
                    return _error(400, str(e))
    return _error(404, f"no target group {arn}")


class AdminApp:
    """WSGI app: /_sandbox/... here, everything else to moto."""

    def __init__(self, moto_app, state):
        self.moto_app = moto_app
        # state: dict with "ready" (bool), "seed" (callable resetting nothing), "reset" (callable).
        self.state = state

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if not path.startswith("/_sandbox/"):
            return self.moto_app(environ, start_response)
        request = Request(environ)
        try:
            response = self.route(request, path[len("/_sandbox") :])
        except Exception as e:  # an admin bug must not take moto down; say what failed
            traceback.print_exc()
            response = _error(500, f"{type(e).__name__}: {e}")
        return response(environ, start_response)

    def route(self, request, path):
        method = request.method
        body = request.get_json(silent=True) if method == "POST" else None
        if method == "POST" and request.data and body is None:
            return _error(400, "body must be JSON")
        body = body or {}
        if path == "/health" and method == "GET":
            if not self.state["ready"]:
                # 503 while seeding (try again), 500 once seeding failed (waiting will not help)
                failed = "reason" in self.state
                return _json({"ok": False, "reason": self.state.get("reason", "seeding")}, 500 if failed else 503)
            return _json({"ok": True})
        if path == "/config":
            if method == "POST":
                try:
                    return _json(settings.update(body))
                except ValueError as e:
                    return _error(400, str(e))
            return _json(settings.snapshot())
        if path == "/eks/clusters" and method == "GET":
            return _json(_list_clusters())
        match = re.fullmatch(r"/eks/clusters/([^/]+)/(control-plane|access)", path)
        if match and match[2] == "control-plane" and method == "POST":
            return _publish_control_plane(match[1], body)
        if match and match[2] == "access" and method == "GET":
            _, cluster = _find_cluster(match[1])
            return _json(eks_access_model.for_admin(cluster)) if cluster else _error(404, f"no EKS cluster named {match[1]}")
        if path == "/elbv2/target-health" and method == "POST":
            return _target_health(body)
        if path == "/seed" and method == "POST":
            return _json(self.state["seed"](body or None))
        if path == "/reset" and method == "POST":
            return _json(self.state["reset"](body.get("seed")))
        return _error(404, f"no admin endpoint {method} /_sandbox{path}")
