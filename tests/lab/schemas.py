"""Offline validation of every object the collection writes: Kubernetes' own kinds with
kubernetes-validate (strict), the charts' custom kinds with the schemas of tests/schemas/crds.yaml
(closed objects: an unknown field is an error)."""

from __future__ import annotations

import copy
import os

import jsonschema
import kubernetes_validate
import yaml

from tests.lab.playbook import ROOT

CRDS_FILE = os.path.join(ROOT, "tests", "schemas", "crds.yaml")
NAME = {"type": "string", "minLength": 1, "maxLength": 253, "pattern": r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"}
STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}


class ValidationError(Exception):
    """An object does not match its schema."""


def _closed(schema):
    """The schema with Kubernetes' extensions turned into JSON schema, and every object closed."""
    schema = dict(schema)
    if schema.pop("x-kubernetes-int-or-string", False):
        schema["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if schema.pop("x-kubernetes-preserve-unknown-fields", False):
        return schema
    if "properties" in schema:
        schema["properties"] = dict((k, _closed(v)) for k, v in schema["properties"].items())
        schema.setdefault("additionalProperties", False)
    if isinstance(schema.get("additionalProperties"), dict):
        schema["additionalProperties"] = _closed(schema["additionalProperties"])
    if "items" in schema:
        schema["items"] = _closed(schema["items"])
    return schema


def _load():
    with open(CRDS_FILE, encoding="utf-8") as handle:
        entries = yaml.safe_load(handle)
    schemas = {}
    for entry in entries:
        metadata = {"type": "object", "required": ["name"], "properties": {
            "name": NAME, "labels": STRING_MAP, "annotations": STRING_MAP}}
        if entry["scope"] == "Namespaced":
            metadata["required"].append("namespace")
            metadata["properties"]["namespace"] = NAME
        schemas[(entry["apiVersion"], entry["kind"])] = _closed({
            "type": "object", "required": ["apiVersion", "kind", "metadata", "spec"],
            "properties": {"apiVersion": {"const": entry["apiVersion"]}, "kind": {"const": entry["kind"]},
                           "metadata": metadata, "spec": copy.deepcopy(entry["spec"])}})
    return schemas


SCHEMAS = _load()


def custom_kinds():
    """``(apiVersion, kind)`` of the custom resources there is a schema for."""
    return sorted(SCHEMAS)


def validate(doc, version):
    """Raise :class:`ValidationError` when ``doc`` is not a valid object for Kubernetes ``version``."""
    key = (doc.get("apiVersion"), doc.get("kind"))
    if key in SCHEMAS:
        errors = sorted(jsonschema.Draft202012Validator(SCHEMAS[key]).iter_errors(doc), key=lambda e: list(e.path))
        if errors:
            raise ValidationError("; ".join("%s: %s" % ("/".join(str(p) for p in e.path), e.message) for e in errors))
        return
    group = key[0].rsplit("/", 1)[0] if "/" in key[0] else ""
    if "." in group and not group.endswith(".k8s.io"):
        raise ValidationError("%s %s: no schema to validate it against (add it to tests/schemas/crds.yaml)" % key)
    try:
        kubernetes_validate.validate(doc, version, strict=True)
    except kubernetes_validate.ValidationError as exc:
        raise ValidationError(str(exc))
