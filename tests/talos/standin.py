"""A STAND-IN for talosctl, for the tests of the talos role: no Talos node runs here.

``gen`` and ``validate`` are passed to the real talosctl (``TALOSCTL_REAL``, built from
Talos's Go modules), so the machine configs are Talos's own. Everything that talks to a node
is answered from a state file (``TALOS_STANDIN_STATE``) that plays the nodes, and recorded,
one JSON line per call, in ``TALOS_STANDIN_LOG``:

- a node starts in maintenance mode: only ``apply-config --insecure`` works; afterwards
  only authenticated calls (``--talosconfig``) do, as on a real node;
- ``bootstrap`` works once per cluster; ``service etcd`` says Running after it;
- ``upgrade --image <installer>:<tag>`` moves the node to that tag; ``reset`` back to
  maintenance mode.
"""

import json
import os
import sys
import time

import yaml

GLOBAL = {"--talosconfig", "--nodes", "-n", "--endpoints", "-e", "--context"}


def parse(argv):
    opts, rest, i = {}, [], 0
    while i < len(argv):
        arg = argv[i]
        if arg in GLOBAL:
            opts[arg.lstrip("-")] = argv[i + 1]
            i += 2
        else:
            rest.append(arg)
            i += 1
    opts["node"] = opts.get("nodes") or opts.get("n")
    return opts, rest


def load():
    try:
        with open(os.environ["TALOS_STANDIN_STATE"]) as f:
            return json.load(f)
    except FileNotFoundError:
        return {"nodes": {}, "bootstrapped": None}


def save(state):
    with open(os.environ["TALOS_STANDIN_STATE"], "w") as f:
        json.dump(state, f, indent=1)


def record(**entry):
    with open(os.environ["TALOS_STANDIN_LOG"], "a") as f:
        f.write(json.dumps(dict(entry, argv=sys.argv[1:], time=time.time())) + "\n")


def fail(message):
    record(error=message)
    sys.stderr.write("error: %s\n" % message)
    sys.exit(1)


def flag(rest, name):
    return rest[rest.index(name) + 1] if name in rest else None


def main():
    argv = sys.argv[1:]
    opts, rest = parse(argv)
    if rest and rest[0] in ("gen", "validate", "config"):
        record(command=" ".join(rest[:2]))
        os.execv(os.environ["TALOSCTL_REAL"], [os.environ["TALOSCTL_REAL"]] + argv)
    command = rest[0] if rest else ""
    state = load()
    node = state["nodes"].setdefault(opts["node"] or "", {"config": None, "tag": None})
    insecure = "--insecure" in rest
    if command == "apply-config":
        if insecure and node["config"]:
            fail("rpc error: code = Unavailable desc = connection error: tls: certificate required")
        if not insecure and not node["config"]:
            fail("rpc error: code = Unavailable desc = connection error: the node is in maintenance mode")
        if not insecure and not opts.get("talosconfig"):
            fail("no talosconfig")
        with open(flag(rest, "--file")) as f:
            config = yaml.safe_load(f)
        node["config"] = {"type": config["machine"]["type"], "hostname": config["machine"]["network"]["hostname"],
                          "disk": config["machine"]["install"]["disk"], "image": config["machine"]["install"]["image"]}
        node["tag"] = node["tag"] or config["machine"]["install"]["image"].rsplit(":", 1)[1]
        record(command="apply-config", node=opts["node"], insecure=insecure, config=node["config"])
        save(state)
        return
    if not node["config"]:
        fail("rpc error: code = Unavailable desc = connection error: %s is in maintenance mode" % opts["node"])
    record(command=command, node=opts["node"])
    if command == "version":
        print("Client:\n\tTag:         v1.11.5\nServer:\n\tNODE:        %s\n\tTag:         %s" % (opts["node"], node["tag"]))
    elif command == "service":
        print("NODE     %s\nID       etcd\nSTATE    %s" % (opts["node"], "Running" if state["bootstrapped"] else "Preparing"))
    elif command == "bootstrap":
        if state["bootstrapped"]:
            fail("rpc error: code = AlreadyExists desc = etcd data directory is not empty")
        state["bootstrapped"] = opts["node"]
    elif command == "health":
        if not state["bootstrapped"]:
            fail("waiting for etcd to be healthy: etcd isn't running")
        print("waiting for all nodes to be ready: OK")
    elif command == "kubeconfig":
        with open(rest[1], "w") as f:
            yaml.safe_dump({
                "apiVersion": "v1", "kind": "Config",
                "clusters": [{"name": "standin", "cluster": {"server": "https://%s:6443" % opts["node"],
                                                             "certificate-authority-data": "Q0E="}}],
                "users": [{"name": "admin@standin", "user": {"client-certificate-data": "Q0VSVA==",
                                                             "client-key-data": "S0VZ"}}],
                "contexts": [{"name": "admin@standin", "context": {"cluster": "standin", "user": "admin@standin"}}],
                "current-context": "admin@standin"}, f)
    elif command == "upgrade":
        node["tag"] = flag(rest, "--image").rsplit(":", 1)[1]
    elif command == "upgrade-k8s":
        print("updating \"kube-apiserver\" to version %s" % flag(rest, "--to"))
    elif command == "reset":
        node.update(config=None, tag=None)
        if state["bootstrapped"] == opts["node"] or not any(n["config"] for n in state["nodes"].values()):
            state["bootstrapped"] = None
    else:
        fail("%s: not known to the stand-in" % command)
    save(state)


if __name__ == "__main__":
    main()
