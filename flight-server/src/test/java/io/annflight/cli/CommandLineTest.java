package io.annflight.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class CommandLineTest {
  @TempDir Path tmp;

  @Test
  void serveHelpListsTheOptions() {
    StringWriter out = new StringWriter();
    CommandLine cl = AnnflightCommand.commandLine();
    cl.setOut(new PrintWriter(out));
    assertThat(cl.execute("serve", "--help")).isZero();
    assertThat(out.toString()).contains("--host", "--port", "--data-root", "--config",
        "--advertise", "PATH", "demo");
  }

  @Test
  void configMistakesAreOneLineErrors() throws IOException {
    Path bad = Files.writeString(tmp.resolve("bad.yaml"), "collections: {x: {paths: [nope]}}\n");
    StringWriter err = new StringWriter();
    CommandLine cl = AnnflightCommand.commandLine();
    cl.setErr(new PrintWriter(err));
    assertThat(cl.execute("serve", "--port", "0", "--config", bad.toString())).isEqualTo(2);
    assertThat(err.toString()).startsWith("annflight: ").contains("bad.yaml", "nope")
        .doesNotContain("\tat ");
  }

  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.CsvSource({"--projection-cache-mb, -1",
      "--obs-cache-mb, -1", "--obs-cache-mb, 9223372036854775807"})
  void aBadCacheSizeIsAOneLineError(String flag, String value) {
    StringWriter err = new StringWriter();
    CommandLine cl = AnnflightCommand.commandLine();
    cl.setErr(new PrintWriter(err));
    assertThat(cl.execute("serve", "--port", "0", flag, value)).isEqualTo(2);
    assertThat(err.toString()).startsWith("annflight: ").contains(flag, value)
        .doesNotContain("\tat ");
  }

  @Test
  void theDemoListingNamesExactlyTheShippedFiles() throws IOException, URISyntaxException {
    Path demo = Path.of(getClass().getClassLoader().getResource("demo").toURI());
    List<String> onDisk;
    try (Stream<Path> files = Files.walk(demo)) {
      onDisk = files.filter(Files::isRegularFile).map(p -> demo.relativize(p).toString())
          .filter(p -> !p.equals("files.txt")).sorted().toList();
    }
    assertThat(DemoCollection.listing()).containsExactlyInAnyOrderElementsOf(onDisk)
        .contains("collection.json", "pbmc_a.h5ad", "pbmc_b.zarr/.zgroup");
  }

  @Test
  void theDemoIsExtractedOnceAndServesAsConfigured() throws IOException {
    Path dir = DemoCollection.extract("test", tmp);
    assertThat(dir).isEqualTo(tmp.resolve("annflight-demo-test"));
    for (String f : DemoCollection.listing()) {
      assertThat(dir.resolve(f)).isRegularFile();
    }
    // A second call reuses the complete copy.
    Files.writeString(dir.resolve("marker"), "x");
    assertThat(DemoCollection.extract("test", tmp)).isEqualTo(dir);
    assertThat(dir.resolve("marker")).exists();
    ServerConfig c = ServerConfig.load(dir.resolve(DemoCollection.CONFIG), dir);
    assertThat(c.collections()).hasSize(1);
    assertThat(c.collections().get(0).name()).isEqualTo("demo");
    assertThat(c.collections().get(0).stores()).hasSize(2);
  }
}
