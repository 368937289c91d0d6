package dev.ferry.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The whole demo tour, as {@code ./ferry demo --once} runs it: every step must work. */
class DemoTourTest {

  @Test
  @DisplayName(
      "the demo tour gets an address for every example Service, carries traffic and fails over")
  void tourSucceeds(@TempDir Path dir) {
    Path home = Path.of(System.getProperty("ferry.home", "../.."));
    try (Tour tour = new Tour(home, dir.resolve("kubeconfig"), 3)) {
      assertThat(tour.run()).as("failed step").isNull();
    }
    // the real kube-apiserver when its binaries are cached (as in CI), else the mock
    assertThat(dir.resolve("kubeconfig")).content().containsPattern("server: https?://127.0.0.1:");
  }
}
