package dev.ferry.provider.aws;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * moto server as a real process for the tests, one per JVM. Uses {@code moto_server} from the PATH
 * when it is there; otherwise installs the pinned {@code moto[server]} into a virtualenv under the
 * user's cache ({@code $XDG_CACHE_HOME/ferry} or {@code ~/.cache/ferry}) once and reuses it. As a
 * JUnit extension it resets moto's state before each test. It fails loudly when Python is missing:
 * these tests are not to be skipped.
 */
public final class MotoServer implements BeforeEachCallback {

  public static final String VERSION = System.getProperty("moto.version", "5.2.5");
  private static final Duration START_LIMIT = Duration.ofSeconds(60);
  private static final Duration INSTALL_LIMIT = Duration.ofMinutes(10);
  private static volatile Running running;

  /** A started server. */
  public record Running(Process process, String endpoint) {}

  @Override
  public void beforeEach(ExtensionContext context) throws Exception {
    reset();
  }

  /** The endpoint of the JVM's moto server, starting it on first use. */
  public static synchronized String endpoint() {
    if (running == null) {
      try {
        running = start();
      } catch (IOException | InterruptedException e) {
        throw new IllegalStateException("cannot start moto server: " + e.getMessage(), e);
      }
      Runtime.getRuntime().addShutdownHook(new Thread(() -> running.process().destroy()));
    }
    return running.endpoint();
  }

  /** Forgets every resource moto holds. */
  public static void reset() throws IOException, InterruptedException {
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(endpoint() + "/moto-api/reset"))
                    .POST(HttpRequest.BodyPublishers.noBody())
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IllegalStateException("moto reset answered " + r.statusCode());
    }
  }

  /**
   * The port comes from {@code new ServerSocket(0)}: an ephemeral one, which an outgoing connection
   * can take in the second or two moto_server's Python takes to bind it. It then exits, and a new
   * start draws another port (the embedded kube-apiserver met the same race in CI).
   */
  private static Running start() throws IOException, InterruptedException {
    String binary = binary();
    for (int attempt = 1; ; attempt++) {
      try {
        return start(binary);
      } catch (IOException e) {
        if (attempt == 3) {
          throw e;
        }
        System.out.printf("%s; starting it again on another port%n", e.getMessage());
      }
    }
  }

  private static Running start(String binary) throws IOException, InterruptedException {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Path log = Files.createTempFile("moto-server-", ".log");
    Process process =
        new ProcessBuilder(binary, "-H", "127.0.0.1", "-p", String.valueOf(port))
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    String endpoint = "http://127.0.0.1:" + port;
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    try {
      Awaitility.await("moto server on " + endpoint)
          .atMost(START_LIMIT)
          .pollInterval(Duration.ofMillis(200))
          .failFast("moto_server exited", () -> !process.isAlive())
          .ignoreExceptionsInstanceOf(IOException.class)
          .until(
              () ->
                  http.send(
                              HttpRequest.newBuilder(URI.create(endpoint + "/moto-api/")).build(),
                              HttpResponse.BodyHandlers.discarding())
                          .statusCode()
                      < 500);
    } catch (RuntimeException e) {
      process.destroy();
      throw new IOException("moto_server did not start: " + e.getMessage() + "; see " + log, e);
    }
    System.out.printf("moto server %s (%s) at %s, log %s%n", VERSION, binary, endpoint, log);
    return new Running(process, endpoint);
  }

  /**
   * {@code $MOTO_SERVER} when set; otherwise the pinned version from the cached virtualenv,
   * installing it there first if needed. (A {@code moto_server} that happens to be on the PATH is
   * not used: its version is unknown.)
   */
  /** The moto_server executable, installed into the cache on first use. */
  public static String binary() throws IOException, InterruptedException {
    String override = System.getenv("MOTO_SERVER");
    if (override != null && !override.isBlank()) {
      return override;
    }
    String cacheHome = System.getenv("XDG_CACHE_HOME");
    Path cache =
        cacheHome != null && !cacheHome.isBlank()
            ? Path.of(cacheHome)
            : Path.of(System.getProperty("user.home"), ".cache");
    Path venv = cache.resolve("ferry").resolve("moto-" + VERSION);
    Path moto = venv.resolve("bin/moto_server");
    if (Files.isExecutable(moto)) {
      return moto.toString();
    }
    System.out.printf("installing moto[server]==%s into %s (once) ...%n", VERSION, venv);
    Files.createDirectories(venv.getParent());
    run(List.of("python3", "-m", "venv", "--clear", venv.toString()));
    run(
        List.of(
            venv.resolve("bin/pip").toString(), "install", "--quiet", "moto[server]==" + VERSION));
    if (!Files.isExecutable(moto)) {
      throw new IOException("pip installed moto but " + moto + " is missing");
    }
    return moto.toString();
  }

  private static void run(List<String> command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).inheritIO().start();
    if (!p.waitFor(INSTALL_LIMIT.toSeconds(), TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException(
          String.join(" ", command)
              + " did not finish within "
              + INSTALL_LIMIT.toMinutes()
              + " min");
    }
    if (p.exitValue() != 0) {
      throw new IOException(
          String.join(" ", command)
              + " failed with exit code "
              + p.exitValue()
              + " (is python3 with venv installed?)");
    }
  }
}
