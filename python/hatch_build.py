"""Build hook: the wheel carries the server jar (annflight/server/annflight-server.jar), copied
from the Maven build beside this package (or from ANNFLIGHT_JAR). Without it the build fails
and says which command makes it."""
import os
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

JAR_IN_PACKAGE = "annflight/server/annflight-server.jar"


class ServerJarHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version, build_data):
        if self.target_name != "wheel":
            return
        override = os.environ.get("ANNFLIGHT_JAR")
        jar = (Path(override) if override else
               Path(self.root).resolve().parent / "flight-server/target/annflight-server.jar")
        if not jar.is_file():
            raise RuntimeError(
                f"annflight: the server jar {jar} is missing; build it first with "
                "`mvn -B -q package -DskipTests` in the repository root (Java 17 and Maven), "
                "then `pip install ./python` again (or point ANNFLIGHT_JAR at a built jar)")
        build_data["force_include"][str(jar)] = JAR_IN_PACKAGE
