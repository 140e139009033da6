# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers that make the pieces of Kubernetes objects every feature uses: labels, metadata, security contexts,
Secret references, claims, and the platform's HelmCharts. Pure functions over plain dicts."""

from __future__ import annotations

import hashlib
import ipaddress
import json

from ansible_collections.arrkestra.homelab.plugins.plugin_utils import catalog

#: ``app.kubernetes.io/managed-by`` of everything the collection makes.
MANAGED_BY = "arrkestra"


def labels(app=None, component=None):
    """The collection's labels, an app instance's when ``app`` is given, and its component (config, backup...)."""
    out = {"app.kubernetes.io/managed-by": MANAGED_BY, "app.kubernetes.io/part-of": "arrkestra"}
    if app:
        out.update({"app.kubernetes.io/name": app["kind"], "app.kubernetes.io/instance": app["name"]})
    if component:
        out["app.kubernetes.io/component"] = component
    return out


def selector(app):
    """The labels that select an app instance's pods."""
    return {"app.kubernetes.io/instance": app["name"], "app.kubernetes.io/name": app["kind"]}


def meta(name, namespace=None, app=None, component=None):
    """``metadata`` of an object (no namespace for a cluster-wide one)."""
    out = {"name": name}
    if namespace:
        out["namespace"] = namespace
    out["labels"] = labels(app, component)
    return out


def security(stack):
    """A container's securityContext: the stack's user, no privilege, nothing added."""
    return {"runAsUser": stack["uid"], "runAsGroup": stack["gid"], "runAsNonRoot": True,
            "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": False,
            "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}}


def pod_security(stack):
    """A pod's securityContext: the stack's user and group own its volumes."""
    return {"runAsUser": stack["uid"], "runAsGroup": stack["gid"], "fsGroup": stack["gid"],
            "runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}


def feature_env(app, spec, env):
    """A feature's ``env`` in the app's container: after TZ, before the inventory's own ``env``, which may override
    a variable of the feature (the feature's is then left out: a name appears once)."""
    container = spec["containers"][0]
    given = set(app["env"])
    container["env"][1:1] = [e for e in env if e["name"] not in given]


def digest_name(base, content):
    """``<base>-<8 hex>``: a name that changes with ``content`` (anything JSON can write) - for an object a pod template
    names and that cannot change in place, or whose change must restart the pod (a Job, a ConfigMap read at start)."""
    return "%s-%s" % (base, hashlib.sha256(json.dumps(content, sort_keys=True).encode("utf-8")).hexdigest()[:8])


def secret_env(app, key, var):
    """An env variable ``var`` read from ``key`` of the app's credentials Secret."""
    return {"name": var, "valueFrom": {"secretKeyRef": {"name": app["secret"], "key": key}}}


def data_volume(stack):
    """The volume of the shared data tree (media, downloads, backups)."""
    return {"name": "data", "persistentVolumeClaim": {"claimName": stack["data"].get("claim") or "arrkestra-data"}}


def data_mount(stack):
    """The data volume's mount in an app's container: the stack's folder of the volume (``data.sub_path``, a stack
    of ``arrkestra_stacks``) at the same path in every stack, so that the apps' folders are the same everywhere."""
    out = {"name": "data", "mountPath": stack["data"]["mount"]}
    if stack["data"].get("sub_path"):
        out["subPath"] = stack["data"]["sub_path"]
    return out


def config_volume(app):
    """The volume of an app's config claim."""
    return {"name": "config", "persistentVolumeClaim": {"claimName": "%s-config" % app["name"]}}


def storage_claim_spec(stack, size):
    """A node-local volume claim of the config storage class (the cluster's default when it is empty)."""
    spec = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}
    if stack["config_storage_class"]:
        spec["storageClassName"] = stack["config_storage_class"]
    return spec


def resources(cpu, memory, cpu_limit, memory_limit):
    """A container's requests and limits."""
    return {"requests": {"cpu": cpu, "memory": memory}, "limits": {"cpu": cpu_limit, "memory": memory_limit}}


def contains(outer, inner):
    """Whether the network ``inner`` lies inside ``outer`` (CIDRs)."""
    outer, inner = ipaddress.ip_network(outer, strict=False), ipaddress.ip_network(inner, strict=False)
    return outer.version == inner.version and inner.subnet_of(outer)


# -- the platform's objects ---------------------------------------------------------------
def platform_meta(name, namespace=None):
    """``metadata`` of a platform object."""
    return meta(name, namespace, component="platform")


def namespace(name, level="restricted"):
    """A platform Namespace with its pod security level."""
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": dict(
        labels(component="platform"), **{"pod-security.kubernetes.io/enforce": level,
                                         "kubernetes.io/metadata.name": name})}}


def values(content):
    """A chart's values, as helm-controller's ``valuesContent`` takes them."""
    return json.dumps(content, sort_keys=True, indent=2) + "\n"


def chart(name, target, content, namespace="kube-system"):
    """A ``HelmChart`` of :data:`catalog.CHARTS` installing into ``target``."""
    repo, chart_name, version = catalog.CHARTS[name]
    return {"apiVersion": "helm.cattle.io/v1", "kind": "HelmChart", "metadata": platform_meta(name, namespace),
            "spec": {"repo": repo, "chart": chart_name, "version": version, "targetNamespace": target,
                     "createNamespace": False, "valuesContent": values(content)}}
