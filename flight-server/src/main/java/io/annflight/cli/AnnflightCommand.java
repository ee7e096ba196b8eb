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
    new CommandLine(new ServeCommand()).execute();
  }

  public static void main(String[] args) {
    System.exit(new CommandLine(new AnnflightCommand()).execute(args));
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
