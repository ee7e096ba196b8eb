"""The server engine the package carries: its jar, the Java that runs it, and server processes.

``annflight serve ...`` (the console script) is ``java -jar annflight-server.jar serve ...``;
:func:`serve` runs a server for the duration of a ``with`` block and gives its URI.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence

from .errors import AnnflightError, ServerError

MIN_JAVA = 17
START_TIMEOUT_S = 120
STOP_TIMEOUT_S = 15
_BUNDLED_JAR = Path(__file__).resolve().parent / "server" / "annflight-server.jar"
_LISTENING = re.compile(r"listening on (grpc\+(?:tcp|tls)://\S+)")


class JavaNotFound(AnnflightError, RuntimeError):
    """No Java 17 or newer to run the server with."""


def jar_path() -> Path:
    """The server jar: ``ANNFLIGHT_JAR`` when set, else the one installed with the package."""
    override = os.environ.get("ANNFLIGHT_JAR")
    jar = Path(override) if override else _BUNDLED_JAR
    if not jar.is_file():
        where = f"ANNFLIGHT_JAR={override}" if override else f"the package ({jar})"
        raise ServerError(f"no annflight server jar in {where}: build it with "
                          "`mvn -B -q package -DskipTests` and reinstall with "
                          "`pip install ./python`")
    return jar


def java_major_version(java: str) -> Optional[int]:
    """The major version ``java -version`` reports (8 for "1.8.0"), None if it does not run."""
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    m = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if not m:
        return None
    major = int(m.group(1))
    return int(m.group(2) or 0) if major == 1 else major


def find_java() -> str:
    """``$JAVA_HOME/bin/java`` when JAVA_HOME is set, else ``java`` on PATH; it must be Java 17
    or newer. Raises :class:`JavaNotFound` saying what to install and where it looked."""
    looked: List[str] = []
    candidates = []
    home = os.environ.get("JAVA_HOME")
    if home:
        candidates.append(("JAVA_HOME", str(Path(home) / "bin" / "java")))
    else:
        looked.append("JAVA_HOME is not set")
    on_path = shutil.which("java")
    if on_path:
        candidates.append(("PATH", on_path))
    else:
        looked.append(f"no java on PATH ({os.environ.get('PATH', '')})")
    for where, java in candidates:
        version = java_major_version(java)
        if version is not None and version >= MIN_JAVA:
            return java
        looked.append(f"{where}: {java} " + ("does not run" if version is None
                                             else f"is Java {version}"))
    raise JavaNotFound(f"annflight's server needs Java {MIN_JAVA} or newer: install a Java "
                       f"{MIN_JAVA}+ runtime (e.g. `apt-get install openjdk-17-jre-headless`, "
                       "or any JDK 17 or newer) and put its java on PATH or set JAVA_HOME. "
                       "Looked at: " + "; ".join(looked))


def _die_with_parent():
    """Runs in the server's child process: on Linux, SIGTERM it when the thread that started it
    ends, so a killed interpreter leaves no server behind (atexit covers normal exits)."""
    try:
        import ctypes
        import signal
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:  # not Linux: atexit alone
        pass


class ServerProcess:
    """A server jar running as a child process, its output in a log file."""

    def __init__(self, args: Sequence[str], *, log_prefix: str = "annflight-server-"):
        java, jar = find_java(), jar_path()
        fd, name = tempfile.mkstemp(prefix=log_prefix, suffix=".log")
        self.log_path = Path(name)
        self.command = [java, "-jar", str(jar), "serve", *args]
        # Only a child of the main thread may die with its parent: PR_SET_PDEATHSIG fires when
        # the starting *thread* ends.
        main = threading.current_thread() is threading.main_thread()
        with os.fdopen(fd, "wb") as log:
            self.process = subprocess.Popen(
                self.command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C in a terminal stops Python's loop, not this
                preexec_fn=_die_with_parent if main and sys.platform == "linux" else None)
        self.owner = os.getpid()
        try:
            self.uri = self._wait_listening()
        except BaseException:
            self.stop(keep_log=True)
            raise

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def _wait_listening(self) -> str:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            m = _LISTENING.search(self.log_path.read_text(errors="replace"))
            if m:
                return m.group(1)
            if self.process.poll() is not None:
                raise ServerError(f"the annflight server exited with code "
                                  f"{self.process.returncode} before listening; its log: "
                                  f"{self.log_path}\n{self.log_tail()}")
            time.sleep(0.05)
        raise ServerError(f"the annflight server did not listen within {START_TIMEOUT_S} s; "
                          f"its log: {self.log_path}\n{self.log_tail()}")

    def running(self) -> bool:
        if os.getpid() != self.owner:  # a forked child cannot wait on it; its parent owns it
            return True
        return self.process.poll() is None

    def stop(self, keep_log: bool = False):
        """SIGTERM (the server drains and exits), SIGKILL if it has not after 15 s. Only the
        process that started the server stops it (forked DataLoader workers share it)."""
        if os.getpid() != self.owner:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if not keep_log:
            self.log_path.unlink(missing_ok=True)


@contextmanager
def serve(data_root, *, collections: Optional[Dict[str, dict]] = None, port: int = 0,
          host: str = "127.0.0.1", args: Sequence[str] = ()) -> Iterator[str]:
    """Runs the bundled server while the ``with`` block runs and yields its URI.

    ``data_root``: the directory request ``paths`` are relative to. ``collections``: ``{name: request}``, as the configuration file's
    ``collections``; relative ``paths`` there are relative to ``data_root``. ``port`` 0 picks a
    free port. ``args``: more command-line flags (``--auth-tokens``, ``--max-streams``...).

        with annflight.serve("/data", collections={"pbmc": {"paths": ["a.h5ad"]}}) as uri:
            annflight.connect(uri).read({"collection": "pbmc"})
    """
    if data_root is None:  # a configuration's paths would be relative to its temporary file
        raise ValueError("serve needs the data_root that request and collection paths are "
                         "relative to")
    flags = ["--host", host, "--port", str(port), "--warmup-seconds", "0",
             "--data-root", str(Path(data_root).resolve()), *args]
    config_dir = tempfile.mkdtemp(prefix="annflight-serve-") if collections else None
    try:
        if config_dir is not None:
            config = Path(config_dir) / "collections.json"
            config.write_text(json.dumps({"collections": collections}))
            flags += ["--config", str(config)]
        server = ServerProcess(flags)
        try:
            yield server.uri
        finally:
            server.stop()
    finally:
        if config_dir is not None:
            shutil.rmtree(config_dir, ignore_errors=True)


def main(argv: Optional[List[str]] = None) -> int:
    """``annflight ...``: the server's command line (``annflight serve --data-root DIR``,
    ``annflight hash-password``), run as ``java -jar annflight-server.jar ...``."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        command = [find_java(), "-jar", str(jar_path()), *argv]
    except AnnflightError as e:
        print(f"annflight: {e}", file=sys.stderr)
        return 2
    if hasattr(os, "execv"):
        os.execv(command[0], command)  # signals (SIGTERM, Ctrl-C) reach the server directly
    return subprocess.call(command)


if __name__ == "__main__":
    sys.exit(main())
