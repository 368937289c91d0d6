package dev.ferry.controller;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** What {@code ferry run} finds at start-up: its API server and its providers. */
class StartupTest {

  @Test
  @DisplayName("no kubeconfig anywhere: one line saying what was tried and what to pass")
  void noKubeconfig(@org.junit.jupiter.api.io.TempDir java.nio.file.Path home) {
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> ApiServerConnection.find(null, java.util.Map.of(), home))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("KUBERNETES_SERVICE_HOST is unset")
        .hasMessageContaining("$KUBECONFIG is unset")
        .hasMessageContaining(home.resolve(".kube/config") + " does not exist")
        .hasMessageContaining("pass --kubeconfig FILE");
  }

  @Test
  @DisplayName("the in-tree local provider is found on the class path")
  void registryFindsLocal() {
    assertThat(ProviderRegistry.load(getClass().getClassLoader()).names()).contains("local");
  }

  /** A second factory that claims the name "local". */
  public static final class DuplicateLocal implements dev.ferry.spi.LoadBalancerProviderFactory {
    @Override
    public String name() {
      return "local";
    }

    @Override
    public String spiVersion() {
      return dev.ferry.spi.SpiVersion.CURRENT;
    }

    @Override
    public dev.ferry.spi.LoadBalancerProvider create(dev.ferry.spi.ProviderContext context) {
      throw new UnsupportedOperationException();
    }
  }

  @Test
  @DisplayName("two providers with one name fail at start-up naming both classes")
  void duplicateNames(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    java.nio.file.Path services =
        dir.resolve("META-INF/services/dev.ferry.spi.LoadBalancerProviderFactory");
    java.nio.file.Files.createDirectories(services.getParent());
    java.nio.file.Files.writeString(services, DuplicateLocal.class.getName() + "\n");
    try (java.net.URLClassLoader loader =
        new java.net.URLClassLoader(
            new java.net.URL[] {dir.toUri().toURL()}, getClass().getClassLoader())) {
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> ProviderRegistry.load(loader))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("two providers are named 'local'")
          .hasMessageContaining("DuplicateLocal");
    }
  }
}
