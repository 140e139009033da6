# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""TLS of the HTTP client: a private CA and a client certificate, on a real TLS server on loopback.

This is how the controller reaches an app through the Kubernetes API server's
service proxy with only a kubeconfig (API servers ask for a client certificate).
"""

from __future__ import annotations

import datetime
import http.server
import ipaddress
import json
import ssl
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.arrkestra.homelab.plugins.module_utils._http import ApiError, HttpClient, tls_context


def _cert(subject, issuer=None, issuer_key=None, ca=False, server=False):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer.subject if issuer else name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(hours=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if server:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                                        critical=False)
    cert = builder.sign(issuer_key or key, hashes.SHA256())
    return cert, key


def _write(path, cert, key=None):
    data = cert.public_bytes(serialization.Encoding.PEM)
    if key is not None:
        data += key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption())
    path.write_bytes(data)
    return str(path)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pki")
    ca, ca_key = _cert("arrkestra test CA", ca=True)
    server, server_key = _cert("127.0.0.1", ca, ca_key, server=True)
    client, client_key = _cert("admin", ca, ca_key)
    return {"ca": _write(tmp / "ca.pem", ca), "server": _write(tmp / "server.pem", server, server_key),
            "client_both": _write(tmp / "client-both.pem", client, client_key),
            "client_cert_only": _write(tmp / "client-cert.pem", client),
            "client_key_only": str(_write_key(tmp / "client-key.pem", client_key))}


def _write_key(path, key):
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return path


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (the name http.server wants)
        body = json.dumps({"peer": self.connection.getpeercert()["subject"][0][0][1]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server(pki):
    """An HTTPS server on loopback that only talks to clients with a certificate of the test CA."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki["server"])
    context.load_verify_locations(pki["ca"])
    context.verify_mode = ssl.CERT_REQUIRED
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield "https://127.0.0.1:%d" % httpd.server_address[1]
    httpd.shutdown()


def test_client_certificate_and_private_ca(server, pki):
    with HttpClient(server, "Kubernetes API server", ca_path=pki["ca"], client_cert=pki["client_cert_only"],
                    client_key=pki["client_key_only"], retries=0) as client:
        assert client.get("/api/v1/namespaces/media/services/http:radarr:7878/proxy/ping") == {"peer": "admin"}
    with HttpClient(server, "Kubernetes API server", ca_path=pki["ca"], client_cert=pki["client_both"],
                    retries=0) as client:
        assert client.get("/x") == {"peer": "admin"}


def test_without_the_client_certificate_the_error_says_it_cannot_connect(server, pki):
    with HttpClient(server, "Kubernetes API server", ca_path=pki["ca"], retries=0) as client:
        with pytest.raises(ApiError) as err:
            client.get("/x")
    assert "Cannot connect to Kubernetes API server at %s" % server in str(err.value)


def test_unknown_ca_is_refused_unless_validate_certs_is_off(server, pki):
    with HttpClient(server, "App", client_cert=pki["client_both"], retries=0) as client:
        with pytest.raises(ApiError, match="CERTIFICATE_VERIFY_FAILED"):
            client.get("/x")
    with HttpClient(server, "App", client_cert=pki["client_both"], validate_certs=False, retries=0) as client:
        assert client.get("/x") == {"peer": "admin"}


def test_a_bad_client_certificate_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate")
    with pytest.raises(ApiError, match="Cannot load the client certificate .*bad.pem"):
        tls_context(True, None, str(bad), None)


def test_plain_verification_stays_a_bool():
    assert tls_context(True) is True and tls_context(False) is False
