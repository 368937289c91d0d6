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

  HaproxyFixture(String pool) throws IOException {
    this.dir = Files.createTempDirectory("ferry-haproxy-");
    this.pool = pool;
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
                            HaproxyProviderFactory.BINARY, binary()))
                    .build());
  }

  /** Stops the haproxy the provider started (the provider itself never does). */
  void stop() throws Exception {
    new Haproxy(Path.of(binary()), dir).stop();
  }
}
