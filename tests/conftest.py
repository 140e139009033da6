"""Make the checkout importable as ``ansible_collections.arrkestra.homelab``.

scripts/bootstrap.sh links the checkout at
.collections/ansible_collections/arrkestra/homelab; tests import the
collection's Python code through that path, as Ansible does.
"""

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(ROOT, ".collections")

if not os.path.isdir(os.path.join(COLLECTIONS, "ansible_collections", "arrkestra", "homelab")):
    raise RuntimeError("Run scripts/bootstrap.sh first: %s is missing the collection link" % COLLECTIONS)
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)
