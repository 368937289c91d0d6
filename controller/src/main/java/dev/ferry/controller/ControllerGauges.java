package dev.ferry.controller;

import io.fabric8.kubernetes.api.model.Service;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The controller's gauges: Ferry's Services by the reason of their condition, those without an
 * address, leadership, the queue, NodePorts. Each is read from the caches when scraped.
 */
final class ControllerGauges {

  private ControllerGauges() {}

  /**
   * @param services the Service cache's content (empty before it syncs)
   */
  static void register(
      MeterRegistry registry,
      Supplier<List<Service>> services,
      ServiceClassifier classifier,
      BooleanSupplier leading,
      WorkQueue queue,
      NodePortAllocator ports) {
    for (String reason :
        List.of(
            StatusWriter.Ready.PROVISIONED,
            StatusWriter.Ready.PENDING,
            StatusWriter.Ready.PORT_ERROR,
            StatusWriter.Ready.INVALID_SERVICE,
            StatusWriter.Ready.PROVIDER_ERROR,
            StatusWriter.Ready.THROTTLED,
            StatusWriter.Ready.DELETING,
            StatusWriter.Ready.ADOPTION_PENDING)) {
      Gauge.builder("ferry.services", () -> byReason(services.get(), reason))
          .description("Ferry's Services by the reason of their LoadBalancerReady condition")
          .tag("reason", reason)
          .register(registry);
    }
    Gauge.builder(
            "ferry.services.without.address",
            () ->
                services.get().stream()
                    .filter(classifier::wantsLoadBalancer)
                    .filter(s -> StatusWriter.ingressOf(s).isEmpty())
                    .count())
        .description("Services Ferry should serve that have no address in their status")
        .register(registry);
    Gauge.builder("ferry.leader", () -> leading.getAsBoolean() ? 1 : 0)
        .description("1 while this replica reconciles (leads), 0 on standby")
        .register(registry);
    Gauge.builder("ferry.queue.depth", queue, WorkQueue::depth)
        .description("Services waiting to be reconciled")
        .register(registry);
    Gauge.builder("ferry.nodeports.allocated", ports, NodePortAllocator::allocatedCount)
        .description("NodePorts in use in Ferry's range")
        .register(registry);
    Gauge.builder("ferry.nodeports.capacity", ports, a -> a.range().size())
        .description("Size of Ferry's NodePort range")
        .register(registry);
  }

  private static long byReason(List<Service> services, String reason) {
    return services.stream()
        .filter(s -> s.getStatus() != null && s.getStatus().getConditions() != null)
        .filter(
            s ->
                s.getStatus().getConditions().stream()
                    .anyMatch(
                        c -> StatusWriter.TYPE.equals(c.getType()) && reason.equals(c.getReason())))
        .count();
  }
}
