"""The server jar run for others: grpc+tls with a certificate made for the test (openssl) and
bearer tokens with per-collection grants, through the annflight package (pyarrow underneath):
a granted collection is served over TLS with its token; no token, a wrong one, or an ungranted
collection is refused with the server's message; plaintext clients get nothing."""
import hashlib
import json
import shutil
import subprocess

import pytest

import annflight
from conftest import start_jar, stop_jar
from expected import FIXTURES

TOKEN = "integration-secret"
PASSWORD = "correct horse battery staple"


def pbkdf2_entry(password, iterations=20_000):
    """A users entry's password, made with Python's hashlib (independent of the server)."""
    import base64
    import os
    salt = os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return "pbkdf2-sha256$%d$%s$%s" % (iterations, base64.b64encode(salt).decode(),
                                       base64.b64encode(digest).decode())


@pytest.fixture(scope="module")
def secure_server(tmp_path_factory):
    d = tmp_path_factory.mktemp("secure")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    str(d / "key.pem"), "-out", str(d / "cert.pem"), "-days", "2", "-subj",
                    "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True)
    root = d / "root"
    root.mkdir()
    shutil.copy(FIXTURES / "dense.h5ad", root / "dense.h5ad")
    (d / "config.json").write_text(json.dumps({"collections": {
        "pbmc": {"paths": ["dense.h5ad"]}, "secret": {"paths": ["dense.h5ad"]}}}))
    (d / "tokens.json").write_text(json.dumps({"tokens": [
        {"name": "trainer", "sha256": hashlib.sha256(TOKEN.encode()).hexdigest(),
         "collections": ["pbmc"], "paths": False}],
        "users": [{"name": "analyst", "password": pbkdf2_entry(PASSWORD),
                   "collections": ["secret"]}]}))
    proc, uri, log = start_jar([
        "--data-root", str(root), "--config", str(d / "config.json"),
        "--tls-cert", str(d / "cert.pem"), "--tls-key", str(d / "key.pem"),
        "--auth-tokens", str(d / "tokens.json")])
    try:
        assert uri.startswith("grpc+tls://")
        yield uri, (d / "cert.pem").read_bytes(), log
    finally:
        stop_jar(proc)


def test_a_granted_collection_is_served_over_tls_with_its_token(secure_server):
    uri, ca, _ = secure_server
    with annflight.connect(uri, token=TOKEN, tls_root_certs=ca) as af:
        assert af.collections() == ["pbmc"]
        assert af.read({"collection": "pbmc"}, progress=False).num_rows == 60


def test_no_wrong_or_ungranted_tokens_are_refused(secure_server):
    uri, ca, log = secure_server
    with annflight.connect(uri, tls_root_certs=ca) as anonymous:
        with pytest.raises(annflight.Unauthorized, match="bearer token"):
            anonymous.shape({"collection": "pbmc"})
    with annflight.connect(uri, token="guess", tls_root_certs=ca) as wrong:
        with pytest.raises(annflight.Unauthorized, match="unknown or revoked"):
            wrong.read({"collection": "pbmc"}, progress=False)
    with annflight.connect(uri, token=TOKEN, tls_root_certs=ca) as af:
        with pytest.raises(annflight.Unauthorized, match="not granted collection \"secret\""):
            af.read({"collection": "secret"}, progress=False)
        with pytest.raises(annflight.Unauthorized, match="may not name store paths"):
            af.shape({"paths": ["dense.h5ad"]})
    assert not any(TOKEN in line for line in log), "a token reached the server's log"


def test_the_torch_dataset_and_mapped_collection_read_over_tls_with_a_token(secure_server):
    from annflight.torch import AnnflightDataset
    uri, ca, _ = secure_server
    ds = AnnflightDataset({"collection": "pbmc"}, uri=uri, batch_size=16, token=TOKEN,
                          tls_root_certs=ca)
    assert sum(len(b["_row"]) for b in ds) == 60
    with annflight.MappedCollection(collection="pbmc", uri=uri, token=TOKEN,
                                    tls_root_certs=ca) as mc:
        assert len(mc) == 60 and mc[59]["X"].shape == (24,)


def test_plaintext_clients_get_nothing(secure_server):
    uri, _, _ = secure_server
    with pytest.raises(annflight.AnnflightError):
        with annflight.connect(uri.replace("grpc+tls", "grpc+tcp"), token=TOKEN) as af:
            af.collections()


def test_a_user_signs_in_with_the_basic_handshake_and_reads_with_the_issued_token(secure_server):
    uri, ca, log = secure_server
    with pytest.raises(annflight.Unauthorized, match="unknown user or wrong password"):
        annflight.sign_in(uri, "analyst", "wrong", tls_root_certs=ca)
    with pytest.raises(annflight.Unauthorized, match="unknown user or wrong password"):
        annflight.sign_in(uri, "nobody", PASSWORD, tls_root_certs=ca)
    token = annflight.sign_in(uri, "analyst", PASSWORD, tls_root_certs=ca)
    with annflight.connect(uri, token=token, tls_root_certs=ca) as af:
        assert af.collections() == ["secret"]
        assert af.read({"collection": "secret"}, progress=False).num_rows == 60
        with pytest.raises(annflight.Unauthorized, match="not granted collection \"pbmc\""):
            af.read({"collection": "pbmc"}, progress=False)
    # pyarrow's own handshake call, as any Flight client makes it.
    import pyarrow.flight as fl
    client = fl.connect(uri, tls_root_certs=ca)
    try:
        header = client.authenticate_basic_token("analyst", PASSWORD)
        options = fl.FlightCallOptions(headers=[header])
        names = [f.descriptor.path[0].decode() for f in client.list_flights(options=options)]
        assert names == ["secret"]
    finally:
        client.close()
    assert not any(PASSWORD in line or token in line for line in log), \
        "a password or an issued token reached the server's log"


def test_hash_password_prints_a_hash_pythons_hashlib_verifies():
    import base64
    from conftest import JAR, JAVA
    out = subprocess.run([JAVA, "-jar", str(JAR), "hash-password", "--iterations", "20000"],
                         input="s3cret pass\n", capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    scheme, iterations, salt, digest = out.stdout.strip().split("$")
    assert scheme == "pbkdf2-sha256" and iterations == "20000"
    expected = hashlib.pbkdf2_hmac("sha256", b"s3cret pass", base64.b64decode(salt), 20000)
    assert base64.b64decode(digest) == expected
    weak = subprocess.run([JAVA, "-jar", str(JAR), "hash-password", "--iterations", "10"],
                          input="x\n", capture_output=True, text=True, timeout=60)
    assert weak.returncode == 2 and "at least 10000" in weak.stderr
