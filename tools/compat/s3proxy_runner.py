"""S3Proxy for the compatibility check and the object-store benchmark: a JVM of its own on
127.0.0.1 and a free port, a filesystem backend under a work directory, made-up SigV4
credentials; its classpath is the one the test-s3proxy module copies (mvn install -pl
test-s3proxy). upload() needs boto3."""
import secrets
import socket
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(workdir: Path, startup_s: float = 60, port: int = None, keys=None):
    """S3Proxy on 127.0.0.1 with a filesystem backend under workdir; (process, endpoint, keys).
    `port` and `keys` (access key, secret) are made up unless given: a restart on the same
    port and backend with other keys is a store whose credentials were rotated. A port made
    up here was free a moment ago; if another process took it before S3Proxy bound it (a
    shared machine), S3Proxy exits, and it starts again on another (3 tries)."""
    for attempt in range(3):
        try:
            return _start(workdir, startup_s, port or free_port(), keys)
        except _ExitedAtStart:
            if port or attempt == 2:
                raise SystemExit("S3Proxy did not start (it exited)")


class _ExitedAtStart(Exception):
    pass


def _start(workdir: Path, startup_s: float, port: int, keys):
    lib = REPO / "test-s3proxy/target/lib"
    if not lib.is_dir():
        raise SystemExit(f"{lib} is missing: mvn install -pl test-s3proxy")
    key, secret = keys or ("wild-" + secrets.token_hex(4), secrets.token_hex(16))
    (workdir / "data").mkdir(parents=True, exist_ok=True)
    props = workdir / "s3proxy.properties"
    props.write_text(f"s3proxy.endpoint=http://127.0.0.1:{port}\n"
                     "s3proxy.authorization=aws-v2-or-v4\n"
                     f"s3proxy.identity={key}\ns3proxy.credential={secret}\n"
                     "jclouds.provider=filesystem\n"
                     f"jclouds.filesystem.basedir={workdir / 'data'}\n")
    logback = workdir / "logback.xml"
    logback.write_text('<configuration><appender name="E" class="ch.qos.logback.core.'
                       'ConsoleAppender"><encoder><pattern>%msg%n</pattern></encoder>'
                       '</appender><root level="WARN"><appender-ref ref="E"/></root>'
                       '</configuration>')
    proc = subprocess.Popen(["java", f"-Dlogback.configurationFile={logback}", "-cp",
                             f"{lib}/*", "org.gaul.s3proxy.Main", "--properties", str(props)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + startup_s
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc, f"http://127.0.0.1:{port}", (key, secret)
        except OSError:
            if proc.poll() is not None:
                raise _ExitedAtStart()
            time.sleep(0.2)
    proc.kill()
    proc.wait()
    raise SystemExit(f"S3Proxy did not listen within {startup_s} s")


def stop_process(proc, timeout_s: float = 15):
    """Terminates a process (a server jar, S3Proxy), killing it if it outlives timeout_s."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def stop(proc, endpoint: str):
    """Stops S3Proxy and waits until nothing listens on its port (SystemExit if still)."""
    stop_process(proc)
    port = int(endpoint.rsplit(":", 1)[1])
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return
    raise SystemExit(f"something still listens on {endpoint} after S3Proxy stopped")


def upload(root: Path, endpoint: str, keys, bucket: str, prefix: str = ""):
    """Every file under root, as bucket/prefix/<path under root>; the bucket is created."""
    import boto3
    from botocore.config import Config
    s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=keys[0],
                      aws_secret_access_key=keys[1], region_name="us-east-1",
                      config=Config(s3={"addressing_style": "path"}))
    s3.create_bucket(Bucket=bucket)
    n = 0
    for f in sorted(root.rglob("*")):
        if f.is_file() and not f.is_symlink():
            s3.upload_file(str(f), bucket, prefix + f.relative_to(root).as_posix())
            n += 1
    return n
