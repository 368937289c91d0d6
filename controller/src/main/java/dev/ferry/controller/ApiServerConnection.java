package dev.ferry.controller;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;

/**
 * Where Ferry finds its API server, said in words an operator can act on: the flag's kubeconfig,
 * else the in-cluster service account, else {@code $KUBECONFIG}, else {@code ~/.kube/config}. A
 * missing file, no configuration at all, or an API server that cannot be reached is an {@link
 * IllegalStateException} naming what was tried, never a stack trace or a retry loop at start-up.
 */
record ApiServerConnection(Config config, String source) {

  /** Finds the configuration; fails with what was tried when there is none. */
  static ApiServerConnection find(Path kubeconfig) {
    return find(kubeconfig, System.getenv(), Path.of(System.getProperty("user.home")));
  }

  static ApiServerConnection find(Path kubeconfig, Map<String, String> env, Path userHome) {
    if (kubeconfig != null) {
      return fromFile(kubeconfig, "--kubeconfig " + kubeconfig);
    }
    if (env.get("KUBERNETES_SERVICE_HOST") != null) {
      return new ApiServerConnection(Config.autoConfigure(null), "in-cluster service account");
    }
    String file = env.get("KUBECONFIG");
    if (file != null && !file.isBlank()) {
      return fromFile(Path.of(file.split(java.io.File.pathSeparator)[0]), "$KUBECONFIG " + file);
    }
    Path home = userHome.resolve(".kube").resolve("config");
    if (Files.isReadable(home)) {
      return fromFile(home, home.toString());
    }
    throw new IllegalStateException(
        "no API server configured: not in a cluster (KUBERNETES_SERVICE_HOST is unset), $KUBECONFIG"
            + " is unset and "
            + home
            + " does not exist; pass --kubeconfig FILE (or run with --embedded-api to try Ferry)");
  }

  private static ApiServerConnection fromFile(Path file, String source) {
    try {
      return new ApiServerConnection(Config.fromKubeconfig(Files.readString(file)), source);
    } catch (NoSuchFileException e) {
      throw new IllegalStateException("kubeconfig " + file + " does not exist (" + source + ")");
    } catch (IOException | RuntimeException e) {
      throw new IllegalStateException(
          "cannot read kubeconfig " + file + " (" + source + "): " + e.getMessage());
    }
  }

  /**
   * Checks once, quickly and without retries, that the API server answers at all; any HTTP answer
   * counts (the check is about reaching it, not about permissions).
   */
  ApiServerConnection requireReachable() {
    Config probe =
        new ConfigBuilder(config)
            .withConnectionTimeout(5_000)
            .withRequestTimeout(10_000)
            .withRequestRetryBackoffLimit(0)
            .withUserAgent(KubeClients.USER_AGENT)
            .build();
    try (KubernetesClient client = new KubernetesClientBuilder().withConfig(probe).build()) {
      client.getKubernetesVersion();
    } catch (KubernetesClientException e) {
      if (e.getCode() <= 0) {
        throw new IllegalStateException(
            "cannot reach the API server at "
                + config.getMasterUrl()
                + " (from "
                + source
                + "): "
                + rootMessage(e));
      }
    }
    return this;
  }

  private static String rootMessage(Throwable t) {
    Throwable root = t;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return root.getMessage() != null ? root.getMessage() : root.toString();
  }
}
