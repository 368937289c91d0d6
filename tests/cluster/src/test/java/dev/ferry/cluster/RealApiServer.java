package dev.ferry.cluster;

import com.marcnuri.helm.Helm;
import dev.ferry.demo.KubeApiServerProcess;
import io.fabric8.kubeapitest.KubeAPIServer;
import io.fabric8.kubeapitest.KubeAPIServerConfigBuilder;
import io.fabric8.kubeapitest.KubeAPITestException;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real kube-apiserver and etcd for the cluster tests, one per JVM, started through fabric8's
 * kube-api-test in offline mode from the binaries {@code hack/kube-binaries.sh} provides (built and
 * cached on first use). {@link #controllerKubeconfig} gives the controller exactly the RBAC the
 * Helm chart renders: a ServiceAccount token bound to the chart's roles, nothing more.
 */
final class RealApiServer {

  static final String NAMESPACE = "ferry-system";

  /** The Service CIDRs: IPv4 first (kube-api-test's own), then IPv6. */
  static final String SERVICE_CIDRS = KubeApiServerProcess.SERVICE_CIDRS;

  static final String RELEASE = "ferry";
  static final Path HOME =
      Path.of(System.getProperty("ferry.home", "../..")).toAbsolutePath().normalize();

  private static RealApiServer shared;

  final KubernetesClient admin;
  final Config adminConfig;
  final String adminKubeconfig;
  private final KubeAPIServer server;

  final Path kubectl;

  private RealApiServer(KubeAPIServer server, String kubeconfig, Path kubectl) {
    this.server = server;
    this.kubectl = kubectl;
    this.adminKubeconfig = kubeconfig;
    this.adminConfig = Config.fromKubeconfig(kubeconfig);
    this.admin = new KubernetesClientBuilder().withConfig(adminConfig).build();
  }

  static synchronized RealApiServer get() throws IOException, InterruptedException {
    if (shared == null) {
      String dir = KubeApiServerProcess.dualStack(Path.of(binaries())).toString();
      KubeAPIServer server = start(dir);
      shared =
          new RealApiServer(
              server,
              server.getKubeConfigYaml(),
              Path.of(
                  dir,
                  "k8s",
                  System.getProperty("kube.version", "1.34.4") + "-linux-amd64",
                  "kubectl"));
      Runtime.getRuntime().addShutdownHook(new Thread(server::stop));
      shared.installChartRbac();
    }
    return shared;
  }

  /**
   * Started again, up to three times, when etcd or kube-apiserver exits during the start: a port
   * kube-api-test picked can be taken before the process binds it (see the demo's {@code
   * KubeApiServerProcess}, where one CI run met it).
   */
  private static KubeAPIServer start(String dir) {
    for (int attempt = 1; ; attempt++) {
      KubeAPIServer server =
          new KubeAPIServer(
              KubeAPIServerConfigBuilder.anAPIServerConfig()
                  .withOfflineMode(true)
                  .withTestDir(dir)
                  .withApiServerVersion(System.getProperty("kube.version", "1.34.4"))
                  .withUpdateKubeConfig(false)
                  .withStartupTimeout(120_000)
                  .build());
      long t0 = System.nanoTime();
      try {
        server.start();
        System.out.printf("kube-apiserver up in %.1f s%n", (System.nanoTime() - t0) / 1e9);
        return server;
      } catch (KubeAPITestException e) {
        try {
          server.stop(); // kube-api-test has stopped it already when a process exited
        } catch (KubeAPITestException alreadyCleaned) {
          e.addSuppressed(alreadyCleaned);
        }
        if (attempt == 3) {
          throw e;
        }
        System.out.printf(
            "kube-apiserver did not start (%s); again on new ports%n", e.getMessage());
      }
    }
  }

  /** Runs hack/kube-binaries.sh (a cache hit after the first time) and returns its directory. */
  private static String binaries() throws IOException, InterruptedException {
    Process p =
        new ProcessBuilder(HOME.resolve("hack/kube-binaries.sh").toString())
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    if (!p.waitFor(30, TimeUnit.MINUTES) || p.exitValue() != 0) {
      throw new IOException("hack/kube-binaries.sh failed (exit " + p.exitValue() + ")");
    }
    return out.lines().reduce((a, b) -> b).orElseThrow();
  }

  /** The chart's ServiceAccount and RBAC, rendered by Helm and applied as admin. */
  private void installChartRbac() {
    admin
        .namespaces()
        .resource(
            new NamespaceBuilder().withNewMetadata().withName(NAMESPACE).endMetadata().build())
        .create();
    String rendered =
        new Helm(HOME.resolve("charts/ferry"))
            .template()
            .withKubeVersion("1.34.0")
            .withName(RELEASE)
            .withNamespace(NAMESPACE)
            .set("provider.name", "local")
            .call();
    List<HasMetadata> items =
        admin.load(new ByteArrayInputStream(rendered.getBytes(StandardCharsets.UTF_8))).items();
    for (HasMetadata item : items) {
      if (List.of("ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding")
          .contains(item.getKind())) {
        admin.resource(item).inNamespace(NAMESPACE).create();
      }
    }
  }

  /** The administrator's kubeconfig as a file, for the real kubectl. */
  Path adminKubeconfigFile(Path dir) throws IOException {
    Path file = dir.resolve("admin.kubeconfig");
    Files.writeString(file, adminKubeconfig);
    return file;
  }

  private String caData() throws IOException {
    if (adminConfig.getCaCertData() != null) {
      return adminConfig.getCaCertData();
    }
    return java.util.Base64.getEncoder()
        .encodeToString(Files.readAllBytes(Path.of(adminConfig.getCaCertFile())));
  }

  /** A kubeconfig that authenticates as the chart's ServiceAccount. */
  Path controllerKubeconfig(Path dir) throws IOException {
    return controllerKubeconfig(dir, adminConfig.getMasterUrl());
  }

  /** The same, reaching the API server at {@code serverUrl} (e.g. through a {@link TcpRelay}). */
  Path controllerKubeconfig(Path dir, String serverUrl) throws IOException {
    String token =
        admin
            .serviceAccounts()
            .inNamespace(NAMESPACE)
            .withName(RELEASE)
            .tokenRequest(
                new TokenRequestBuilder()
                    .withNewSpec()
                    .withExpirationSeconds(7200L)
                    .endSpec()
                    .build())
            .getStatus()
            .getToken();
    String yaml =
        """
        apiVersion: v1
        kind: Config
        clusters: [{name: test, cluster: {server: "%s", certificate-authority-data: "%s"}}]
        users: [{name: ferry, user: {token: "%s"}}]
        contexts: [{name: ferry, context: {cluster: test, user: ferry, namespace: %s}}]
        current-context: ferry
        """
            .formatted(serverUrl, caData(), token, NAMESPACE);
    Path file = Files.createTempFile(dir, "ferry-sa-", ".kubeconfig");
    Files.writeString(file, yaml);
    return file;
  }
}
