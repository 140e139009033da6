"""Backups of the apps' config volumes, and the documented restore, performed for real.

The scripts are the ones the stack puts in ConfigMap ``arrkestra-backup`` (what the backup
CronJobs and ``playbooks/restore.yml``'s Job run); here they run with the Debian ``sqlite3``
against a real SQLite database in WAL mode that an open connection is writing, like a
running Radarr's.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import tarfile
import time

import pytest

from ansible_collections.arrkestra.homelab.plugins.plugin_utils import model as stack_model, workloads

pytestmark = pytest.mark.integration


@pytest.fixture()
def lab(tmp_path):
    stack = stack_model.build({"backups": {"enabled": True, "keep": 2}})
    scripts = [o for o in workloads.objects(stack) if o["metadata"]["name"] == "arrkestra-backup"][0]["data"]
    for name, text in scripts.items():
        (tmp_path / name).write_text(text)
    config, nas = tmp_path / "config", tmp_path / "nas"
    (config / "logs").mkdir(parents=True)
    (config / "logs" / "radarr.txt").write_text("log lines\n")
    (config / "config.xml").write_text("<Config><ApiKey>abc</ApiKey></Config>\n")
    db = sqlite3.connect(str(config / "radarr.db"))
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE movies (id INTEGER PRIMARY KEY, title TEXT)")
    db.executemany("INSERT INTO movies (title) VALUES (?)", [("Alien",), ("Heat",), ("Ran",)])
    db.commit()
    env = dict(os.environ, APP="radarr", CONFIG_DIR=str(config), BACKUP_DIR=str(nas), KEEP="2")
    yield {"dir": tmp_path, "config": config, "nas": nas / "radarr", "env": env, "db": db}
    db.close()


def run(lab, script, *args, check=True):
    proc = subprocess.run(["sh", str(lab["dir"] / script)] + list(args), env=lab["env"], capture_output=True,
                          text=True, check=False)
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def titles(path):
    with sqlite3.connect(str(path)) as db:
        return [row[0] for row in db.execute("SELECT title FROM movies ORDER BY id")]


def test_backup_while_the_app_writes_then_restore(lab):
    assert (lab["config"] / "radarr.db-wal").exists()           # the app's connection is open, in WAL mode
    for dummy in range(3):
        run(lab, "backup.sh")
        time.sleep(1.1)                                         # archives are named by the second
    archives = sorted(os.listdir(lab["nas"]))
    assert len(archives) == 2                                   # KEEP=2: the oldest is gone
    with tarfile.open(str(lab["nas"] / archives[-1])) as tar:
        names = sorted(n.lstrip("./") for n in tar.getnames() if tar.getmember(n).isfile())
    assert names == ["config.xml", "radarr.db"]                 # no logs, no WAL of the live database

    # The day something goes wrong: rows lost, a setting overwritten.
    lab["db"].execute("DELETE FROM movies WHERE title != 'Alien'")
    lab["db"].commit()
    stale = (lab["config"] / "radarr.db-wal").read_bytes()      # a journal left by a killed app
    lab["db"].close()
    (lab["config"] / "radarr.db-wal").write_bytes(stale)
    (lab["config"] / "config.xml").write_text("broken\n")
    out = run(lab, "restore.sh").stdout                         # no archive named: the newest
    assert archives[-1] in out
    assert titles(lab["config"] / "radarr.db") == ["Alien", "Heat", "Ran"]
    assert "<ApiKey>abc</ApiKey>" in (lab["config"] / "config.xml").read_text()

    run(lab, "restore.sh", archives[0])                         # a named archive works as well


def test_a_damaged_archive_restores_nothing(lab):
    run(lab, "backup.sh")
    archive = lab["nas"] / os.listdir(lab["nas"])[0]
    work = lab["dir"] / "work"
    with tarfile.open(str(archive)) as tar:
        tar.extractall(str(work), filter="data")
    with open(work / "radarr.db", "r+b") as handle:
        handle.seek(4096)
        handle.write(b"\xff" * 4096)                              # a page of the table, overwritten
    with tarfile.open(str(archive), "w:gz") as tar:
        tar.add(str(work), arcname=".")
    (lab["config"] / "config.xml").write_text("current\n")
    proc = run(lab, "restore.sh", check=False)
    assert proc.returncode != 0 and "fails SQLite's integrity check; nothing was restored" in proc.stderr
    assert (lab["config"] / "config.xml").read_text() == "current\n"


def test_restore_without_a_backup_says_so(lab):
    proc = run(lab, "restore.sh", check=False)
    assert proc.returncode != 0 and "radarr: no backup in" in proc.stderr
