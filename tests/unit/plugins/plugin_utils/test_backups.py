# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backups: a CronJob per config volume, and a restore Job."""

from __future__ import annotations

import pytest

from ansible_collections.arrkestra.homelab.plugins.plugin_utils import backups, model as stack_model, workloads


def test_backups_a_cronjob_per_config_volume_and_a_restore_job():
    stack = stack_model.build({"backups": {"enabled": True, "keep": 3}})
    objects = workloads.objects(stack)
    jobs = [o["metadata"]["name"] for o in objects if o["kind"] == "CronJob" and o["metadata"]["name"].endswith("-backup")]
    assert "radarr-backup" in jobs and "flaresolverr-backup" not in jobs and "recyclarr-backup" not in jobs
    scripts = [o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "arrkestra-backup"][0]
    assert set(scripts["data"]) == {"backup.sh", "restore.sh"}
    job = backups.restore_job(stack, "radarr", "radarr-20261129T033000Z.tar.gz")
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["sh", "/scripts/restore.sh", "radarr-20261129T033000Z.tar.gz"]
    assert {"name": "BACKUP_DIR", "value": "/data/backups"} in container["env"]
    with pytest.raises(stack_model.StackError, match="no app of the stack with backups"):
        backups.restore_job(stack_model.build({}), "radarr")
