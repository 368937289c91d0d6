package dev.ferry.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The class path {@code ./ferry demo} and {@code ./ferry run --embedded-api} run with (the packaged
 * jar and {@code target/lib}, not the test class path) offers every in-tree provider.
 */
class LauncherClassPathIT {

  /** The launcher's class path: the packaged jar and {@code target/lib}. */
  static String classPath() throws java.io.IOException {
    Path target = Path.of("target").toAbsolutePath();
    try (var jars = Files.list(target)) {
      Path jar =
          jars.filter(p -> p.getFileName().toString().matches("ferry-bench-.*\\.jar"))
              .filter(p -> !p.getFileName().toString().contains("tests"))
              .findFirst()
              .orElseThrow();
      return jar + File.pathSeparator + target.resolve("lib") + File.separator + "*";
    }
  }

  @Test
  @DisplayName("the launcher's class path has every provider, and --help lists every command")
  void everyProvider() throws Exception {
    String classPath = classPath();
    String java = ProcessHandle.current().info().command().orElse("java");
    Process p =
        new ProcessBuilder(
                java, "-cp", classPath, "dev.ferry.cli.Main", "run", "--provider", "nosuch")
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isEqualTo(2);
    assertThat(out).contains("unknown provider 'nosuch'; providers found: aws, azure, gcp, local");

    Process help =
        new ProcessBuilder(java, "-cp", classPath, "dev.ferry.cli.Main", "--help")
            .redirectErrorStream(true)
            .start();
    String usage = new String(help.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(help.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(usage).contains("demo ", "run ", "gc ", "bench ", "generate-completion");
  }
}
