package io.annflight.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code java -jar annflight-server.jar [serve ...]}; no arguments serves the demo. */
@Command(name = "annflight", mixinStandardHelpOptions = true,
    versionProvider = AnnflightCommand.Version.class,
    description = "Arrow Flight server over a collection of AnnData stores (.h5ad, .zarr).",
    subcommands = {ServeCommand.class, HashPasswordCommand.class,
        CommandLine.HelpCommand.class})
public final class AnnflightCommand implements Runnable {

  @Override
  public void run() {
    // Reached only through commandLine() without a subcommand; main() maps that to serve.
    CommandLine.usage(this, System.out);
  }

  public static void main(String[] args) {
    // Netty's pooled chunks of 16 MiB (its default before 4.1.76), not 4 MiB: a batch's buffers
    // of a few MiB then share chunks, where each would otherwise take a chunk of its own and
    // destroy it when freed (fresh memory, zeroed and faulted in, for every batch). Not in a
    // small heap: direct memory is limited to the heap's size, and a few 16 MiB chunks would
    // exhaust it before any request could be told so.
    if (System.getProperty("io.netty.allocator.maxOrder") == null
        && Runtime.getRuntime().maxMemory() >= (1L << 30)) {
      System.setProperty("io.netty.allocator.maxOrder", "11");
    }
    // Netty's pooled chunks as plain native memory (with --add-opens java.base/java.nio, which
    // Arrow needs anyway), as Arrow's memory-netty docs advise: otherwise each new chunk is a
    // ByteBuffer.allocateDirect, which the JDK zeroes first (2-3 % of a wide CSR stream's CPU:
    // a chunk emptied by the batches sent is destroyed, and the next batch takes a new one).
    if (System.getProperty("io.netty.tryReflectionSetAccessible") == null) {
      System.setProperty("io.netty.tryReflectionSetAccessible", "true");
    }
    // Netty turns sun.misc.Unsafe off by default on Java 25 and later, and then pools plain
    // direct buffers, which Arrow's memory-netty casts to netty's Unsafe ones: every DoGet
    // failed with a ClassCastException on Java 25. Arrow itself needs Unsafe anyway.
    if (System.getProperty("io.netty.noUnsafe") == null) {
      System.setProperty("io.netty.noUnsafe", "false");
    }
    // No arguments at all means "serve the bundled demo".
    String[] effective = args.length == 0 ? new String[] {"serve"} : args;
    System.exit(commandLine().execute(effective));
  }

  /** The command line, with configuration mistakes reported as one line instead of a trace. */
  public static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new AnnflightCommand());
    cl.setExecutionExceptionHandler((e, line, parsed) -> {
      // A data root in a bucket that cannot be read (refused credentials, no such bucket, an
      // endpoint down) is a configuration mistake too: its message names the root.
      if (e instanceof ConfigException || e instanceof IllegalArgumentException
          || e instanceof java.io.IOException || e instanceof java.io.UncheckedIOException
          || e instanceof io.annflight.store.source.ObjectStoreException) {
        line.getErr().println("annflight: " + e.getMessage());
        return 2;
      }
      throw e;
    });
    return cl;
  }

  /** The jar's Implementation-Version (absent when run from classes). */
  public static String version() {
    String v = AnnflightCommand.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"annflight " + version()};
    }
  }
}
