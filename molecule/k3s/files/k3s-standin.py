# A STAND-IN for the k3s binary, made by the molecule scenario arrkestra.homelab/molecule/k3s.
# No k3s release can be downloaded where the tests run, so the roles' airgap path installs
# this script as /usr/local/bin/k3s. It does what the roles rely on and records every call
# in /var/lib/rancher/k3s/standin.log (JSON lines) for the scenario to check:
#   k3s --version            the version the scenario wrote into it
#   k3s server | agent       reads /etc/rancher/k3s/config.yaml, refuses what k3s refuses
#                            (no token, a joining node without server), writes the server's
#                            token file and kubeconfig, tells systemd it is ready, sleeps
#   k3s kubectl ...          readyz, wait, drain, cordon, uncordon: answered, recorded;
#                            label node --overwrite: kept in labels.json, "not labeled" when unchanged
import base64
import hashlib
import json
import os
import signal
import socket
import sys
import time

import yaml

VERSION = "@VERSION@"
DATA = "/var/lib/rancher/k3s"
CONFIG = "/etc/rancher/k3s/config.yaml"
KUBECONFIG = "/etc/rancher/k3s/k3s.yaml"


def record(**entry):
    os.makedirs(DATA, exist_ok=True)
    entry.update(argv=sys.argv[1:], version=VERSION, pid=os.getpid(), time=time.time())
    with open(os.path.join(DATA, "standin.log"), "a") as f:
        f.write(json.dumps(entry) + "\n")


def fail(message):
    record(error=message)
    sys.stderr.write("k3s stand-in: %s\n" % message)
    sys.exit(1)


def notify_ready():
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return
    if address.startswith("@"):
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        s.connect(address)
        s.sendall(b"READY=1")


def run(mode):
    with open(CONFIG) as f:
        config = yaml.safe_load(f) or {}
    if not config.get("token"):
        fail("no token in %s" % CONFIG)
    if mode == "agent" and not config.get("server"):
        fail("an agent needs server in %s" % CONFIG)
    # Keys only, the token never goes to the log.
    record(mode=mode, config={k: ("<token>" if k == "token" else v) for k, v in config.items()},
           token_sha256=hashlib.sha256(config["token"].encode()).hexdigest())
    if mode == "server":
        os.makedirs(DATA + "/server", exist_ok=True)
        token_file = DATA + "/server/token"
        if not os.path.exists(token_file):
            digest = hashlib.sha256(config["token"].encode()).hexdigest()
            with open(token_file, "w") as f:
                f.write("K10%s::server:%s\n" % (digest, config["token"]))
            os.chmod(token_file, 0o600)
        fake = base64.b64encode(b"stand-in, not a certificate").decode()
        kubeconfig = {
            "apiVersion": "v1", "kind": "Config", "preferences": {},
            "clusters": [{"name": "default", "cluster": {
                "certificate-authority-data": fake, "server": "https://127.0.0.1:6443"}}],
            "users": [{"name": "default", "user": {"client-certificate-data": fake, "client-key-data": fake}}],
            "contexts": [{"name": "default", "context": {"cluster": "default", "user": "default"}}],
            "current-context": "default",
        }
        with open(KUBECONFIG, "w") as f:
            yaml.safe_dump(kubeconfig, f)
        os.chmod(KUBECONFIG, int(str(config.get("write-kubeconfig-mode", "0600")), 8))
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    notify_ready()
    while True:
        time.sleep(3600)


def kubectl(args):
    record(mode="kubectl")
    if not os.path.exists(KUBECONFIG):
        fail("The connection to the server 127.0.0.1:6443 was refused")
    if args[:2] == ["get", "--raw=/readyz"]:
        print("ok")
    elif args and args[0] in ("drain", "cordon", "uncordon"):
        print("node/%s %s" % (args[1], {"drain": "drained", "cordon": "cordoned", "uncordon": "uncordoned"}[args[0]]))
    elif args and args[0] == "wait":
        print("node condition met")
    elif args[:3] == ["label", "node", "--overwrite"] and len(args) > 4:
        label(args[3], args[4:])
    else:
        fail("kubectl %s: not known to the stand-in" % " ".join(args))


def label(node, pairs):
    path = os.path.join(DATA, "labels.json")
    labels = {}
    if os.path.exists(path):
        with open(path) as f:
            labels = json.load(f)
    wanted = dict(labels.get(node) or {}, **dict(p.split("=", 1) for p in pairs))
    if wanted == labels.get(node):
        print("node/%s not labeled" % node)
        return
    labels[node] = wanted
    with open(path, "w") as f:
        json.dump(labels, f, sort_keys=True)
    print("node/%s labeled" % node)


def main():
    args = sys.argv[1:]
    if args == ["--version"]:
        print("k3s version %s (stand-in)\ngo version go1.24 (stand-in)" % VERSION)
    elif args and args[0] in ("server", "agent"):
        run(args[0])
    elif args and args[0] == "kubectl":
        kubectl(args[1:])
    else:
        fail("%s: not known to the stand-in" % " ".join(args))


if __name__ == "__main__":
    main()
