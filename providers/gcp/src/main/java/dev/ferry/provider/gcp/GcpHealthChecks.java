package dev.ferry.provider.gcp;

import com.google.cloud.compute.v1.HTTPHealthCheck;
import com.google.cloud.compute.v1.HealthCheck;
import com.google.cloud.compute.v1.InsertRegionHealthCheckRequest;
import com.google.cloud.compute.v1.TCPHealthCheck;
import com.google.cloud.compute.v1.UpdateRegionHealthCheckRequest;
import dev.ferry.provider.gcp.GcpShape.ProbeSpec;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.ProviderException;
import java.util.Optional;

/**
 * The regional health check a Service's backend services use: the cluster's shared node check
 * (kube-proxy's {@code :10256/healthz}), or the Service's own (its healthCheckNodePort, or timings
 * it tuned). Made when missing, updated when a Service's own differs; the shared one is never
 * rewritten by a Service.
 */
final class GcpHealthChecks {

  private final GcpContext c;
  private final GcpApi api;
  private final GcpResources resources;

  GcpHealthChecks(GcpResources resources, GcpApi api) {
    this.c = resources.context();
    this.api = api;
    this.resources = resources;
  }

  /** Ensures the shape's check; answers its link. */
  String ensure(LoadBalancerRef ref, GcpShape shape) throws ProviderException {
    ProbeSpec p = shape.probe();
    HealthCheck.Builder want =
        HealthCheck.newBuilder()
            .setName(p.name())
            .setDescription(p.shared() ? GcpOwner.shared(ref.cluster()) : shape.description())
            .setCheckIntervalSec(p.intervalSeconds())
            .setTimeoutSec(p.timeoutSeconds())
            .setHealthyThreshold(p.healthy())
            .setUnhealthyThreshold(p.unhealthy());
    if (p.path().isEmpty()) {
      want.setType("TCP").setTcpHealthCheck(TCPHealthCheck.newBuilder().setPort(p.port()));
    } else {
      want.setType("HTTP")
          .setHttpHealthCheck(
              HTTPHealthCheck.newBuilder().setPort(p.port()).setRequestPath(p.path()));
    }
    Optional<HealthCheck> have = resources.healthChecks.read().get(p.name());
    if (have.isEmpty()) {
      api.insert(
          "regionHealthChecks.insert",
          id ->
              c.healthChecks()
                  .insertCallable()
                  .call(
                      InsertRegionHealthCheckRequest.newBuilder()
                          .setProject(c.project())
                          .setRegion(c.region())
                          .setHealthCheckResource(want)
                          .setRequestId(id)
                          .build()),
          () -> resources.healthChecks.read().get(p.name()).isPresent());
    } else if (!p.shared() && !same(have.get(), want.build())) {
      GcpOwner.requireOwned(have.get().getDescription(), ref, p.name());
      api.mutate(
          "regionHealthChecks.update",
          id ->
              c.healthChecks()
                  .updateCallable()
                  .call(
                      UpdateRegionHealthCheckRequest.newBuilder()
                          .setProject(c.project())
                          .setRegion(c.region())
                          .setHealthCheck(p.name())
                          .setHealthCheckResource(want)
                          .setRequestId(id)
                          .build()));
    }
    return GcpContext.full(c.regionalLink("healthChecks", p.name()));
  }

  static boolean same(HealthCheck a, HealthCheck b) {
    return a.getType().equals(b.getType())
        && a.getCheckIntervalSec() == b.getCheckIntervalSec()
        && a.getTimeoutSec() == b.getTimeoutSec()
        && a.getHealthyThreshold() == b.getHealthyThreshold()
        && a.getUnhealthyThreshold() == b.getUnhealthyThreshold()
        && a.getHttpHealthCheck().getPort() == b.getHttpHealthCheck().getPort()
        && a.getHttpHealthCheck().getRequestPath().equals(b.getHttpHealthCheck().getRequestPath())
        && a.getTcpHealthCheck().getPort() == b.getTcpHealthCheck().getPort();
  }
}
