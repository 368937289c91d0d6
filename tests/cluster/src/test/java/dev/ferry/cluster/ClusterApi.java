package dev.ferry.cluster;

import io.fabric8.kubernetes.client.Config;

/** Access to the shared real API server for tests in other packages. */
public final class ClusterApi {
  private ClusterApi() {}

  /** The administrator's configuration of the JVM's real API server, starting it if needed. */
  public static Config admin() throws Exception {
    return RealApiServer.get().adminConfig;
  }
}
