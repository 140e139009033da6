# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The monitoring feature (``arrkestra_monitoring``): kube-prometheus-stack, and an Exportarr sidecar for every app
Exportarr knows, scraped through a ServiceMonitor, with the stack's alerts and a Grafana dashboard."""

from __future__ import annotations

import json

from ansible_collections.arrkestra.homelab.plugins.plugin_utils import checks, kube, sso

EXPORTARR_PORT = 9707
#: Apps Exportarr has metrics for.
EXPORTARR_KINDS = ("prowlarr", "radarr", "sonarr", "lidarr", "bazarr", "sabnzbd")
#: Memory (MiB) the monitoring stack asks for, and the least the cluster must have for it.
MONITORING_REQUESTS_MIB = 640
#: Prometheus's durations (its --storage.tsdb.retention.time): 7d, 12h, 1w2d.
_DURATION_RE = r"^([0-9]+(ms|s|m|h|d|w|y))+$"


def check_fields(monitoring):
    """Each option of ``arrkestra_monitoring`` on its own."""
    checks.text(str(monitoring["retention"]), "arrkestra_monitoring.retention", _DURATION_RE,
                "not a Prometheus duration; give a number and a unit, like 7d, 12h or 2w")
    checks.quantity(monitoring["storage_size"], "arrkestra_monitoring.storage_size", "storage")
    checks.quantity(monitoring["min_memory"], "arrkestra_monitoring.min_memory", "memory")
    if monitoring["grafana_hostname"] is not None:
        checks.hostname(monitoring["grafana_hostname"], "arrkestra_monitoring.grafana_hostname")
    monitoring["disk_alert_percent"] = checks.integer(monitoring["disk_alert_percent"],
                                                      "arrkestra_monitoring.disk_alert_percent", 50, 99)
    monitoring["queue_stuck_hours"] = checks.integer(monitoring["queue_stuck_hours"],
                                                     "arrkestra_monitoring.queue_stuck_hours", 1, 720)


def enabled(stack, app):
    """Whether the app gets an Exportarr sidecar (monitoring on, an app Exportarr knows, an API key)."""
    return (stack["platform"]["monitoring"]["enabled"] and app["kind"] in EXPORTARR_KINDS
            and "api_key" in app["credentials"] and not app["external"])


def _container(stack, app):
    return {"name": "exportarr", "image": stack["images"]["exportarr"], "imagePullPolicy": "IfNotPresent",
            "args": [app["kind"]],
            "env": [{"name": "PORT", "value": str(EXPORTARR_PORT)},
                    {"name": "URL", "value": "http://localhost:%d" % app["port"]},
                    kube.secret_env(app, "api_key", "APIKEY")],
            "ports": [{"name": "metrics", "containerPort": EXPORTARR_PORT, "protocol": "TCP"}],
            "securityContext": kube.security(stack),
            "resources": kube.resources("10m", "32Mi", "100m", "96Mi"),
            "volumeMounts": []}


def pod(stack, app, spec):
    """Exportarr beside the app: it reads the app's API on localhost with the app's key."""
    if enabled(stack, app):
        spec["containers"].append(_container(stack, app))


def service_ports(stack, app):
    """The Service port Prometheus scrapes."""
    if not enabled(stack, app):
        return []
    return [{"name": "metrics", "port": EXPORTARR_PORT, "targetPort": "metrics", "protocol": "TCP"}]


def app_objects(stack, app):
    """The ServiceMonitor of the app's metrics port."""
    if not enabled(stack, app):
        return []
    return [{"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor",
             "metadata": kube.meta(app["name"], stack["namespace"], app),
             "spec": {"selector": {"matchLabels": kube.selector(app)},
                      "endpoints": [{"port": "metrics", "interval": "1m", "scrapeTimeout": "30s"}]}}]


def policy_ingress(stack, app):
    """Prometheus's namespace may reach the metrics port."""
    if not enabled(stack, app):
        return []
    return [{"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}],
             "ports": [{"port": EXPORTARR_PORT, "protocol": "TCP"}]}]


# -- the platform's part ------------------------------------------------------------------
def _alert_rules(stack):
    monitoring, ns = stack["platform"]["monitoring"], stack["namespace"]
    hours = int(monitoring["queue_stuck_hours"])
    free = 100 - int(monitoring["disk_alert_percent"])
    queues = " or ".join('label_replace(%s_queue_total{namespace="%s"}, "app", "%s", "", "")' % (k, ns, k)
                         for k in ("radarr", "sonarr", "lidarr"))
    rules = [
        {"alert": "ArrkestraAppDown", "for": "5m", "labels": {"severity": "critical"},
         "expr": 'kube_deployment_status_replicas_available{namespace="%s"} < 1' % ns,
         "annotations": {"summary": "{{ $labels.deployment }} is down",
                         "description": "{{ $labels.deployment }} in %s has had no ready pod for 5 minutes: "
                                        "kubectl -n %s describe deployment {{ $labels.deployment }}" % (ns, ns)}},
        {"alert": "ArrkestraQueueStuck", "for": "30m", "labels": {"severity": "warning"},
         "expr": "(%s) > 0 and changes((%s)[%dh:5m]) == 0" % (queues, queues, hours),
         "annotations": {"summary": "The download queue of {{ $labels.app }} has not moved for %d hours" % hours,
                         "description": "Items stay in the queue: check the download client and its VPN."}},
        {"alert": "ArrkestraDiskNearlyFull", "for": "15m", "labels": {"severity": "warning"},
         "expr": ('100 * kubelet_volume_stats_available_bytes{namespace="%s"} / kubelet_volume_stats_capacity_bytes'
                  '{namespace="%s"} < %d or 100 * node_filesystem_avail_bytes{fstype!~"tmpfs|overlay|squashfs"} / '
                  'node_filesystem_size_bytes{fstype!~"tmpfs|overlay|squashfs"} < %d') % (ns, ns, free, free),
         "annotations": {"summary": "Less than %d%% free on {{ $labels.persistentvolumeclaim }}"
                                    "{{ $labels.mountpoint }}" % free,
                         "description": "Free space on the volume or node file system is running out."}},
    ]
    return {"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule", "metadata": dict(
        kube.platform_meta("arrkestra", "monitoring"),
        labels=dict(kube.labels(component="platform"), release="kube-prometheus-stack")),
        "spec": {"groups": [{"name": "arrkestra", "rules": rules}]}}


def dashboard(stack):
    """A Grafana dashboard of the stack: apps up, queues, free space."""
    ns = stack["namespace"]

    def panel(index, title, expr, unit="short"):
        return {"id": index, "type": "timeseries", "title": title, "datasource": {"type": "prometheus", "uid": "prometheus"},
                "gridPos": {"h": 8, "w": 12, "x": 12 * (index % 2), "y": 8 * (index // 2)},
                "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
                "targets": [{"refId": "A", "expr": expr, "legendFormat": "{{deployment}}{{job}}{{persistentvolumeclaim}}"}]}
    panels = [
        panel(0, "Apps ready", 'kube_deployment_status_replicas_available{namespace="%s"}' % ns),
        panel(1, "Download queues", '{__name__=~"(radarr|sonarr|lidarr)_queue_total", namespace="%s"}' % ns),
        panel(2, "Config and data volumes free", 'kubelet_volume_stats_available_bytes{namespace="%s"}' % ns, "bytes"),
        panel(3, "Memory of the apps", 'sum by (pod) (container_memory_working_set_bytes{namespace="%s", container!=""})'
              % ns, "bytes"),
    ]
    return {"title": "Arrkestra", "uid": "arrkestra", "schemaVersion": 39, "editable": False, "time": {"from": "now-24h",
            "to": "now"}, "tags": ["arrkestra"], "panels": panels}


def platform_objects(stack):
    """kube-prometheus-stack, the stack's dashboard and alerts (nothing when monitoring is off)."""
    monitoring = stack["platform"]["monitoring"]
    if not monitoring["enabled"]:
        return []
    tls = stack["platform"]["certificates"]["enabled"]
    grafana_ingress = {"enabled": True, "ingressClassName": stack["ingress_class"],
                       "hosts": [monitoring["grafana_hostname"]]}
    if stack["platform"]["sso"]["enabled"]:     # behind the sign-on, its Middleware in this namespace
        grafana_ingress["annotations"] = sso.annotations(stack, "monitoring")
    if tls:
        grafana_ingress["tls"] = [{"hosts": [monitoring["grafana_hostname"]], "secretName": stack["tls_secret"]}]
    res = kube.resources
    values = {
        "crds": {"enabled": True},
        # What k3s and Talos run inside their own processes: nothing to scrape there.
        "kubeEtcd": {"enabled": False}, "kubeControllerManager": {"enabled": False},
        "kubeScheduler": {"enabled": False}, "kubeProxy": {"enabled": False},
        "alertmanager": {"alertmanagerSpec": {"resources": res("10m", "32Mi", "100m", "128Mi")}},
        "prometheusOperator": {"resources": res("20m", "64Mi", "200m", "192Mi")},
        "kube-state-metrics": {"resources": res("10m", "32Mi", "100m", "128Mi")},
        "prometheus-node-exporter": {"resources": res("10m", "16Mi", "100m", "64Mi")},
        "prometheus": {"prometheusSpec": {
            "retention": monitoring["retention"], "resources": res("100m", "320Mi", "1", "1Gi"),
            "serviceMonitorSelectorNilUsesHelmValues": False, "ruleSelectorNilUsesHelmValues": False,
            "storageSpec": {"volumeClaimTemplate": {"spec": kube.storage_claim_spec(stack, monitoring["storage_size"])}}}},
        "grafana": {"admin": {"existingSecret": "grafana-admin", "userKey": "admin-user", "passwordKey": "admin-password"},
                    "resources": res("25m", "128Mi", "500m", "256Mi"), "ingress": grafana_ingress,
                    "sidecar": {"dashboards": {"enabled": True, "label": "grafana_dashboard", "labelValue": "1",
                                               "searchNamespace": "monitoring"}}},
    }
    return [
        kube.namespace("monitoring", "privileged"),     # node-exporter reads the host
        kube.chart("kube-prometheus-stack", "monitoring", values),
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": dict(
            kube.platform_meta("arrkestra-dashboard", "monitoring"),
            labels=dict(kube.labels(component="platform"), grafana_dashboard="1")),
         "data": {"arrkestra.json": json.dumps(dashboard(stack), sort_keys=True, indent=1) + "\n"}},
        _alert_rules(stack),
    ]


def check_memory(stack, node_memory_mib, apps_mib):
    """Fail when the monitoring stack is on and the cluster's nodes (their allocatable MiB) cannot hold it besides
    the apps (``apps_mib``: what their pods request)."""
    monitoring = stack["platform"]["monitoring"]
    if not monitoring["enabled"]:
        return None
    total = sum(node_memory_mib)
    least = checks.memory_mib(monitoring["min_memory"])
    if total < least or total < apps_mib + MONITORING_REQUESTS_MIB:
        raise checks.InputError(
            "arrkestra_monitoring is on, but the cluster's %d node(s) have %d MiB of memory; Prometheus and Grafana "
            "need about %d MiB besides the apps' %d MiB, and arrkestra_monitoring.min_memory asks for %d MiB. Switch "
            "monitoring off (arrkestra_monitoring.enabled: false), add a node, or lower "
            "arrkestra_monitoring.min_memory if you know it fits. Nothing was changed."
            % (len(node_memory_mib), total, MONITORING_REQUESTS_MIB, apps_mib, least))
    return {"total_mib": total, "apps_mib": apps_mib, "monitoring_mib": MONITORING_REQUESTS_MIB}
