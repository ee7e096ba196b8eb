package io.annflight.cli;

import io.annflight.flight.access.PasswordHash;
import java.io.BufferedReader;
import java.io.Console;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code annflight hash-password}: prints the {@code "password"} value of a token file's user.
 * The password is read from the terminal without echo, or as the first line of standard input,
 * never from the command line (where other users' {@code ps} would see it).
 */
@Command(name = "hash-password", mixinStandardHelpOptions = true,
    description = "Print the PBKDF2 hash of a password for a \"users\" entry of --auth-tokens;"
        + " reads the password from the terminal (no echo) or from standard input.")
final class HashPasswordCommand implements Callable<Integer> {

  @Option(names = "--iterations", paramLabel = "N",
      description = "PBKDF2 iterations (default: ${DEFAULT-VALUE}; at least "
          + PasswordHash.MIN_ITERATIONS + ").")
  int iterations = PasswordHash.DEFAULT_ITERATIONS;

  @Override
  public Integer call() throws Exception {
    if (iterations < PasswordHash.MIN_ITERATIONS) {
      throw new IllegalArgumentException("--iterations must be at least "
          + PasswordHash.MIN_ITERATIONS);
    }
    char[] password;
    Console console = System.console();
    if (console != null) {
      password = console.readPassword("password: ");
    } else {
      String line = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))
          .readLine();
      password = line == null ? null : line.toCharArray();
    }
    if (password == null || password.length == 0) {
      throw new IllegalArgumentException("no password given (type it, or pipe it in)");
    }
    System.out.println(PasswordHash.create(password, iterations));
    java.util.Arrays.fill(password, '\0');
    return 0;
  }
}
