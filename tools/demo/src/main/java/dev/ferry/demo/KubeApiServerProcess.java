package dev.ferry.demo;

import io.fabric8.kubeapitest.KubeAPIServer;
import io.fabric8.kubeapitest.KubeAPIServerConfig;
import io.fabric8.kubeapitest.KubeAPIServerConfigBuilder;
import io.fabric8.kubeapitest.KubeAPITestException;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * A real kube-apiserver and etcd, started through fabric8's kube-api-test in offline mode from the
 * binaries {@code hack/kube-binaries.sh} caches ({@code $FERRY_KUBE_CACHE}, else {@code
 * ~/.cache/ferry/kube}). Stopped, and its data removed, on close.
 */
public final class KubeApiServerProcess implements EmbeddedApi {

  private static final int START_ATTEMPTS = 3;

  private final KubeAPIServer server;
  private final String kubeconfig;
  private final String version;

  private KubeApiServerProcess(KubeAPIServer server, String kubeconfig, String version) {
    this.server = server;
    this.kubeconfig = kubeconfig;
    this.version = version;
  }

  private static String version() {
    String v = System.getenv("KUBE_VERSION");
    return v == null || v.isBlank() ? "1.34.4" : v;
  }

  /** The Service CIDRs: IPv4 first (kube-api-test's own), then IPv6. */
  public static final String SERVICE_CIDRS = "10.0.0.0/24,fd00:10:96::/112";

  /**
   * A test directory beside {@code dir} whose kube-apiserver serves dual-stack Services:
   * kube-api-test passes {@code --service-cluster-ip-range 10.0.0.0/24} after any flag of ours (the
   * last one counts), so its binary there is a two-line shim that turns that range into {@link
   * #SERVICE_CIDRS} (IPv4 first, so that a SingleStack Service stays IPv4) and execs the real one;
   * etcd and kubectl are links.
   */
  public static Path dualStack(Path dir) throws IOException {
    String version = version() + "-linux-amd64";
    Path real = dir.resolve("k8s").resolve(version);
    Path root = dir.resolveSibling(dir.getFileName() + "-dual-stack");
    Path bin = root.resolve("k8s").resolve(version);
    Files.createDirectories(bin);
    for (String link : List.of("etcd", "kubectl")) {
      Files.deleteIfExists(bin.resolve(link));
      Files.createSymbolicLink(bin.resolve(link), real.resolve(link));
    }
    Path shim = bin.resolve("kube-apiserver");
    Files.writeString(
        shim,
        "#!/bin/sh\n"
            + "# kube-api-test's single Service range made dual-stack (see KubeApiServerProcess)\n"
            + "for a; do shift; [ \"$a\" = 10.0.0.0/24 ] && a="
            + SERVICE_CIDRS
            + "; set -- \"$@\" \"$a\"; done\n"
            + "exec "
            + real.resolve("kube-apiserver")
            + " \"$@\"\n");
    shim.toFile().setExecutable(true);
    return root;
  }

  /** The cache directory when it holds kube-apiserver and etcd of the expected version. */
  public static Optional<Path> cached() {
    String env = System.getenv("FERRY_KUBE_CACHE");
    Path dir;
    if (env != null && !env.isBlank()) {
      dir = Path.of(env);
    } else {
      String xdg = System.getenv("XDG_CACHE_HOME");
      dir =
          (xdg != null && !xdg.isBlank()
                  ? Path.of(xdg)
                  : Path.of(System.getProperty("user.home"), ".cache"))
              .resolve("ferry/kube");
    }
    Path bin = dir.resolve("k8s").resolve(version() + "-linux-amd64");
    return Files.isExecutable(bin.resolve("kube-apiserver"))
            && Files.isExecutable(bin.resolve("etcd"))
        ? Optional.of(dir)
        : Optional.empty();
  }

  private static String dualStackDir(Path cache) {
    try {
      return dualStack(cache).toString();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("cannot prepare the dual-stack kube-apiserver", e);
    }
  }

  static KubeApiServerProcess start(Path cache) {
    return start(cache, java.util.List.of());
  }

  /** With more kube-apiserver flags ({@code --name=value}), e.g. an audit log. */
  public static KubeApiServerProcess start(Path cache, java.util.List<String> flags) {
    KubeAPIServerConfig config =
        KubeAPIServerConfigBuilder.anAPIServerConfig()
            .withOfflineMode(true)
            .withTestDir(dualStackDir(cache))
            .withApiServerVersion(version())
            .withUpdateKubeConfig(false)
            .withStartupTimeout(60_000)
            .withApiServerFlags(flags)
            .build();
    // In one CI run etcd exited during a start, and nothing said why: kube-api-test logs the
    // processes' output at debug level, off here. ProcessTail keeps their last lines for the
    // message. The likely cause: kube-api-test draws each port from 49152-65535, most of which
    // Linux also hands out for outgoing connections (32768-60999 by default), and binds it and lets
    // go before the process binds it, so a connection can take it in between (the benchmarks'
    // Ports.freePorts met the same with Ferry's metrics port). It takes no ports from outside; a
    // new start draws new ones.
    ProcessTail tail = ProcessTail.attach();
    try {
      for (int attempt = 1; ; attempt++) {
        tail.clear();
        KubeAPIServer server = new KubeAPIServer(config);
        try {
          server.start();
          return new KubeApiServerProcess(server, server.getKubeConfigYaml(), version());
        } catch (KubeAPITestException e) {
          try {
            server.stop(); // kube-api-test has stopped it already when a process exited
          } catch (KubeAPITestException alreadyCleaned) {
            e.addSuppressed(alreadyCleaned);
          }
          if (attempt == START_ATTEMPTS) {
            throw new IllegalStateException(
                "kube-apiserver and etcd did not start in " + attempt + " attempts:\n" + tail, e);
          }
          System.err.printf(
              "kube-apiserver and etcd did not start (%s); starting again on new ports (attempt"
                  + " %d of %d). Their last lines:%n%s%n",
              e.getMessage(), attempt + 1, START_ATTEMPTS, tail);
        }
      }
    } finally {
      tail.detach();
    }
  }

  @Override
  public String url() {
    return Config.fromKubeconfig(kubeconfig).getMasterUrl();
  }

  @Override
  public String kind() {
    return "kube-apiserver v" + version + " + etcd";
  }

  @Override
  public KubernetesClient client() {
    return new KubernetesClientBuilder().withConfig(Config.fromKubeconfig(kubeconfig)).build();
  }

  @Override
  public Path writeKubeconfig(Path path) throws IOException {
    Path parent = path.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    Files.writeString(path, kubeconfig);
    return path.toAbsolutePath();
  }

  @Override
  public void close() {
    server.stop();
  }
}
