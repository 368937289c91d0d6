package dev.ferry.examples.haproxy;

import dev.ferry.spi.ProviderContext;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;

/** A real haproxy on a scratch directory, for one test class. */
final class HaproxyFixture {

  final Path dir;
  final String pool;
  final String pool6; // empty: IPv4 only

  HaproxyFixture(String pool) throws IOException {
    this(pool, "");
  }

  /**
   * @param pool6 an IPv6 /120 whose addresses are put on {@code lo} for the test's life (HAProxy
   *     binds only an address the host has: a local route alone is not enough without {@code
   *     transparent}, which needs CAP_NET_ADMIN), or empty; when this process may not, the
   *     fixture serves IPv4 only and says why on stderr
   */
  HaproxyFixture(String pool, String pool6) throws IOException {
    this.dir = Files.createTempDirectory("ferry-haproxy-");
    this.pool = pool;
    this.pool6 = !pool6.isEmpty() && ip("replace", pool6) ? pool6 : "";
    if (dualStack()) {
      Runtime.getRuntime().addShutdownHook(new Thread(() -> ip("del", this.pool6)));
    }
  }

  /** Whether IPv6 frontends are served (the prefix is local). */
  boolean dualStack() {
    return !pool6.isEmpty();
  }

  /**
   * {@code ip -6 addr <verb> <a>/128 dev lo nodad} for every address of a /120 past its first, in
   * one {@code ip -batch}: true when it succeeded.
   */
  private static synchronized boolean ip(String verb, String prefix) {
    String base = prefix.substring(0, prefix.indexOf("::/120"));
    StringBuilder batch = new StringBuilder();
    for (int i = 1; i < 256; i++) {
      batch.append("addr ").append(verb).append(' ').append(base).append("::");
      batch.append(Integer.toHexString(i)).append("/128 dev lo");
      batch.append(verb.equals("replace") ? " nodad\n" : "\n");
    }
    try {
      Process p = new ProcessBuilder("ip", "-force", "-batch", "-").redirectErrorStream(true).start();
      p.getOutputStream().write(batch.toString().getBytes());
      p.getOutputStream().close();
      String out = new String(p.getInputStream().readAllBytes());
      boolean ok = p.waitFor() == 0;
      if (!ok && verb.equals("replace")) {
        System.err.println(
            "SKIPPED IPv6: cannot make " + prefix + " local on lo (" + out.trim() + ")");
      }
      return ok;
    } catch (IOException e) {
      System.err.println("SKIPPED IPv6: no ip command (" + e.getMessage() + ")");
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /**
   * The haproxy binary: -Dhaproxy.binary, else the PATH, else what the project's {@code
   * hack/haproxy.sh} installs (Debian's package); the tests skip loudly, with the reason, if none.
   */
  static synchronized String binary() {
    String given = System.getProperty("haproxy.binary", "");
    if (!given.isBlank() && !given.startsWith("${")) {
      return given;
    }
    Path install = Path.of("../../hack/haproxy.sh");
    if (!Files.isExecutable(Path.of("/usr/sbin/haproxy")) && Files.isExecutable(install)) {
      try {
        new ProcessBuilder(install.toString()).inheritIO().start().waitFor();
      } catch (IOException e) {
        // reported below as a skip
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (!d.isEmpty() && Files.isExecutable(Path.of(d, "haproxy"))) {
        return Path.of(d, "haproxy").toString();
      }
    }
    Assumptions.assumeTrue(
        Files.isExecutable(Path.of("/usr/sbin/haproxy")),
        "SKIPPED: no haproxy on this machine; ../../hack/haproxy.sh installs Debian's package");
    return "/usr/sbin/haproxy";
  }

  HaproxyProvider provider(String cluster) {
    return (HaproxyProvider)
        new HaproxyProviderFactory()
            .create(
                ProviderContext.builder(cluster)
                    .settings(
                        Map.of(
                            HaproxyProviderFactory.DIR, dir.toString(),
                            HaproxyProviderFactory.POOL, pool,
                            HaproxyProviderFactory.BINARY, binary(),
                            HaproxyProviderFactory.POOL6, pool6))
                    .build());
  }

  /** Stops the haproxy the provider started (the provider itself never does). */
  void stop() throws Exception {
    new Haproxy(Path.of(binary()), dir).stop();
    if (dualStack()) {
      ip("del", pool6);
    }
  }
}
