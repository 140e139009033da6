# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The backups feature (``arrkestra_backups``): a nightly CronJob per app copies its config volume (SQLite through
its online backup) to the shared data tree, and ``playbooks/restore.yml`` puts an archive back with a Job."""

from __future__ import annotations

import hashlib

from ansible_collections.arrkestra.homelab.plugins.plugin_utils import checks, kube

#: The ConfigMap of the backup and restore scripts, in the stack's namespace.
SCRIPTS = "arrkestra-backup"


def check_fields(backups):
    """Each option of ``arrkestra_backups`` on its own."""
    checks.cron(backups["schedule"], "arrkestra_backups.schedule")
    backups["keep"] = checks.integer(backups["keep"], "arrkestra_backups.keep", 1, 365)
    if str(backups["dir"]).startswith("/") or ".." in str(backups["dir"]).split("/"):
        raise checks.InputError("arrkestra_backups.dir is a folder of the shared data tree, relative to it (like "
                                "backups), not %r" % backups["dir"])


def backed_up(stack, app):
    """Whether the app's config volume is backed up (backups on, a config volume, not a CronJob)."""
    return stack["platform"]["backups"]["enabled"] and app["config"] and not app["cronjob"] and not app["external"]


def _pod(stack, app, command):
    """A pod beside the app's config volume (local-path pins it to the volume's node), with the NAS mounted."""
    backups = stack["platform"]["backups"]
    env = [{"name": "APP", "value": app["name"]}, {"name": "CONFIG_DIR", "value": "/config"},
           {"name": "BACKUP_DIR", "value": "%s/%s" % (stack["data"]["mount"], backups["dir"].strip("/"))},
           {"name": "KEEP", "value": str(backups["keep"])}, {"name": "TZ", "value": stack["timezone"]}]
    return {"metadata": {"labels": kube.labels(app, "backup")},
            "spec": {"restartPolicy": "Never", "automountServiceAccountToken": False,
                     "securityContext": kube.pod_security(stack),
                     "containers": [{"name": "backup", "image": stack["images"]["sqlite"], "imagePullPolicy": "IfNotPresent",
                                     "command": command, "env": env, "securityContext": kube.security(stack),
                                     "resources": kube.resources("10m", "32Mi", "500m", "256Mi"),
                                     "volumeMounts": [{"name": "config", "mountPath": "/config"},
                                                      kube.data_mount(stack),
                                                      {"name": "scripts", "mountPath": "/scripts", "readOnly": True}]}],
                     "volumes": [kube.config_volume(app), kube.data_volume(stack),
                                 {"name": "scripts", "configMap": {"name": SCRIPTS, "defaultMode": 0o555}}]}}


def app_objects(stack, app):
    """The app's backup CronJob."""
    if not backed_up(stack, app):
        return []
    pod = _pod(stack, app, ["sh", "/scripts/backup.sh"])
    pod["spec"]["restartPolicy"] = "OnFailure"
    return [{"apiVersion": "batch/v1", "kind": "CronJob",
             "metadata": kube.meta(app["name"] + "-backup", stack["namespace"], app, "backup"),
             "spec": {"schedule": stack["platform"]["backups"]["schedule"], "concurrencyPolicy": "Forbid",
                      "successfulJobsHistoryLimit": 1, "failedJobsHistoryLimit": 2,
                      "jobTemplate": {"spec": {"backoffLimit": 2, "template": pod}}}}]


def stack_objects(stack):
    """The scripts' ConfigMap, when an app is backed up."""
    if not any(backed_up(stack, a) for a in stack["apps"]):
        return []
    return [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": kube.meta(SCRIPTS, stack["namespace"], component="backup"),
             "data": {"backup.sh": BACKUP_SCRIPT, "restore.sh": RESTORE_SCRIPT}}]


def restore_job(stack, name, archive=""):
    """A Job that puts a backup (``archive``: a file name of the app's backup folder; empty: the newest) back into
    the config volume of instance ``name``. Scale the app to 0 first (playbooks/restore.yml does)."""
    apps = [a for a in stack["apps"] if a["name"] == name]
    if not apps or not backed_up(stack, apps[0]):
        raise checks.InputError(
            "restore_app %r: no app of the stack with backups (apps with backups: %s; arrkestra_backups.enabled must "
            "be on)" % (name, ", ".join(a["name"] for a in stack["apps"] if backed_up(stack, a)) or "none"))
    app = apps[0]
    pod = _pod(stack, app, ["sh", "/scripts/restore.sh"] + ([archive] if archive else []))
    digest = hashlib.sha256(("%s %s" % (name, archive)).encode()).hexdigest()[:6]
    return {"apiVersion": "batch/v1", "kind": "Job",
            "metadata": kube.meta("%s-restore-%s" % (name, digest), stack["namespace"], app, "backup"),
            "spec": {"backoffLimit": 0, "ttlSecondsAfterFinished": 3600, "template": pod}}


#: Copies an app's config volume to the NAS: SQLite databases through SQLite's online backup (a consistent copy
#: while the app writes), every other file as it is; keeps the newest $KEEP archives.
BACKUP_SCRIPT = r"""#!/bin/sh
# arrkestra.homelab: back up the config volume of $APP to $BACKUP_DIR/$APP (made by the stack; do not edit).
set -eu
app="${APP:?}"; config="${CONFIG_DIR:-/config}"; dest="${BACKUP_DIR:?}/$app"; keep="${KEEP:-7}"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
mkdir -p "$work/config" "$dest"
cd "$config"
find . \( -name logs -o -name Backups -o -name MediaCover -o -name cache -o -name transcodes \) -prune \
  -o -type f -print | while IFS= read -r f; do
  case "$f" in *-wal|*-shm|*-journal) continue ;; esac
  mkdir -p "$work/config/$(dirname "$f")"
  if [ "$(head -c 15 "$f")" = "SQLite format 3" ]; then
    sqlite3 "$f" ".timeout 30000" ".backup '$work/config/$f'"
    if [ "$(sqlite3 "$work/config/$f" 'PRAGMA integrity_check;')" != ok ]; then
      echo "$app: the copy of $f fails SQLite's integrity check; the last good backup is kept" >&2
      exit 1
    fi
  else
    cp -p "$f" "$work/config/$f"
  fi
done
tar -czf "$dest/.$app-$stamp.tar.gz" -C "$work/config" .
mv "$dest/.$app-$stamp.tar.gz" "$dest/$app-$stamp.tar.gz"
ls -1 "$dest" | grep -E "^$app-[0-9]{8}T[0-9]{6}Z\.tar\.gz$" | sort -r | tail -n +$((keep + 1)) | while IFS= read -r old; do
  rm -f "$dest/$old"
done
echo "$app: backed up to $dest/$app-$stamp.tar.gz"
"""

#: Puts an archive of BACKUP_SCRIPT back into the config volume; the app must be stopped.
RESTORE_SCRIPT = r"""#!/bin/sh
# arrkestra.homelab: restore the config volume of $APP from $BACKUP_DIR/$APP (made by the stack; do not edit).
# Usage: restore.sh [archive]   (a file name in $BACKUP_DIR/$APP; none: the newest). Stop the app first.
set -eu
app="${APP:?}"; config="${CONFIG_DIR:-/config}"; src="${BACKUP_DIR:?}/$app"
archive="${1:-}"
if [ -z "$archive" ]; then
  archive=$(ls -1 "$src" 2>/dev/null | grep -E "^$app-[0-9]{8}T[0-9]{6}Z\.tar\.gz$" | sort -r | head -n 1 || true)
fi
if [ -z "$archive" ]; then echo "$app: no backup in $src" >&2; exit 1; fi
case "$archive" in */*) ;; *) archive="$src/$archive" ;; esac
if [ ! -f "$archive" ]; then echo "$app: $archive does not exist" >&2; exit 1; fi
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
tar -xzf "$archive" -C "$work"
(cd "$work" && find . -type f) | while IFS= read -r f; do
  if [ "$(head -c 15 "$work/$f")" = "SQLite format 3" ]; then
    if [ "$(sqlite3 "$work/$f" 'PRAGMA integrity_check;')" != ok ]; then
      echo "$app: $f in $archive fails SQLite's integrity check; nothing was restored" >&2
      exit 1
    fi
    rm -f "$config/$f-wal" "$config/$f-shm" "$config/$f-journal"   # journals of the database being replaced
  fi
done
cp -R "$work/." "$config/"
echo "$app: restored $archive"
"""
