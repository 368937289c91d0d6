package dev.ferry.demo;

import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The Kubernetes API the demo and {@code ferry run --embedded-api} start in the process. A real
 * kube-apiserver and etcd when the binaries {@code hack/kube-binaries.sh} builds are cached (then
 * kubectl works as against any cluster: server-side tables, describe, events, version; and the API
 * server validates what Ferry writes); otherwise fabric8's mock server, which needs nothing but
 * stores objects without validating them.
 */
public interface EmbeddedApi extends AutoCloseable {

  /** The API server's URL. */
  String url();

  /** What runs: "kube-apiserver v1.34.4 + etcd" or "mock API server". */
  String kind();

  /** An administrator's client. */
  KubernetesClient client();

  /** Writes an administrator's kubeconfig to {@code path}; returns its absolute path. */
  Path writeKubeconfig(Path path) throws IOException;

  @Override
  void close();

  /**
   * The real API server when its binaries are cached, else the mock on {@code mockPort} (0: any).
   */
  static EmbeddedApi start(int mockPort) {
    return KubeApiServerProcess.cached()
        .<EmbeddedApi>map(KubeApiServerProcess::start)
        .orElseGet(() -> EmbeddedApiServer.start(mockPort));
  }
}
