package io.annflight.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.annflight.store.source.ObjectStoreSettings;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** serve's object-storage flags become the store's settings; bad values are refused by name. */
class ObjectStorageOptionsTest {

  private static ObjectStoreSettings parse(String... args) {
    ServeCommand serve = new ServeCommand();
    new CommandLine(serve).parseArgs(args);
    return serve.objectStorage.settings();
  }

  @Test
  void flagsBecomeSettings() {
    ObjectStoreSettings s = parse("--data-root", "s3://cells/atlas", "--s3-endpoint",
        "http://127.0.0.1:9000", "--s3-region", "eu-west-1", "--s3-path-style", "--cache-dir",
        "/tmp/c", "--cache-size", "20g", "--s3-memory-cache", "512m", "--s3-block-size", "64k",
        "--s3-read-ahead", "3", "--s3-max-requests", "7", "--s3-attempts", "2",
        "--s3-revalidate-ms", "250");
    assertThat(s.endpoint().toString()).isEqualTo("http://127.0.0.1:9000");
    assertThat(s.region()).isEqualTo("eu-west-1");
    assertThat(s.pathStyle()).isTrue();
    assertThat(s.cacheDir()).isEqualTo(Path.of("/tmp/c"));
    assertThat(s.diskCacheBytes()).isEqualTo(20L << 30);
    assertThat(s.memoryCacheBytes()).isEqualTo(512L << 20);
    assertThat(s.blockBytes()).isEqualTo(64 << 10);
    assertThat(s.readAheadBlocks()).isEqualTo(3);
    assertThat(s.maxInFlight()).isEqualTo(7);
    assertThat(s.maxAttempts()).isEqualTo(2);
    assertThat(s.revalidate()).isEqualTo(java.time.Duration.ofMillis(250));
    assertThat(s.credentials()).isNull(); // the SDK's default chain
  }

  @Test
  void defaultsReachAwsWithTheDefaultChain() {
    ObjectStoreSettings s = parse();
    assertThat(s.endpoint()).isNull();
    assertThat(s.pathStyle()).isFalse();
    assertThat(s.cacheDir()).isNull();
    assertThat(s.blockBytes()).isEqualTo(1 << 20);
    assertThat(s.revalidate()).isEqualTo(java.time.Duration.ofSeconds(1));
    assertThat(parse("--s3-revalidate-ms", "0").revalidate()).isZero();
  }

  @Test
  void badValuesAreRefusedByName() {
    assertThatThrownBy(() -> parse("--s3-block-size", "1000"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("--s3-block-size");
    assertThatThrownBy(() -> parse("--cache-size", "lots"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("--cache-size");
    assertThatThrownBy(() -> parse("--s3-endpoint", "localhost"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("--s3-endpoint");
    assertThatThrownBy(() -> parse("--s3-read-ahead", "-1"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("--s3-read-ahead");
    assertThatThrownBy(() -> parse("--s3-revalidate-ms", "-5"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("--s3-revalidate-ms");
  }
}
