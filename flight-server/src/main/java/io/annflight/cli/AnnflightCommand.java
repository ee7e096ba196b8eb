package io.annflight.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code java -jar annflight-server.jar [serve ...]}; no arguments serves the demo. */
@Command(name = "annflight", mixinStandardHelpOptions = true,
    versionProvider = AnnflightCommand.Version.class,
    description = "Arrow Flight server over a collection of AnnData stores (.h5ad, .zarr).",
    subcommands = {ServeCommand.class, CommandLine.HelpCommand.class})
public final class AnnflightCommand implements Runnable {

  @Override
  public void run() {
    CommandLine serve = commandLine().getSubcommands().get("serve");
    int code = serve.execute();
    if (code != 0) {
      System.exit(code);
    }
  }

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /** The command line, with configuration mistakes reported as one line instead of a trace. */
  public static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new AnnflightCommand());
    cl.setExecutionExceptionHandler((e, line, parsed) -> {
      if (e instanceof ConfigException || e instanceof IllegalArgumentException
          || e instanceof java.io.IOException || e instanceof java.io.UncheckedIOException) {
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
