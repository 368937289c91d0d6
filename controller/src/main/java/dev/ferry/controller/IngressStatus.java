package dev.ferry.controller;

import dev.ferry.controller.StatusWriter.Ready;
import dev.ferry.spi.LoadBalancerStatus;
import io.fabric8.kubernetes.api.model.LoadBalancerIngress;
import io.fabric8.kubernetes.api.model.LoadBalancerIngressBuilder;
import io.fabric8.kubernetes.api.model.PortStatusBuilder;
import io.fabric8.kubernetes.api.model.Service;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * What a provider's {@link LoadBalancerStatus} becomes on the Service: its {@code
 * status.loadBalancer.ingress} (addresses, ipMode, per-port errors) and its Ready condition.
 */
final class IngressStatus {

  private IngressStatus() {}

  /** The addresses the Service shows now (a restart keeps them). */
  static List<String> addressesOf(Service service) {
    return StatusWriter.ingressOf(service).stream()
        .map(i -> i.getIp() != null ? i.getIp() : i.getHostname())
        .filter(Objects::nonNull)
        .toList();
  }

  /** Ready, unless a port could not be made (its error is in the status; the others serve). */
  static Ready provisioned(LoadBalancerStatus found) {
    String failed =
        found.ingress().stream()
            .flatMap(i -> i.ports().stream())
            .filter(p -> !p.error().isEmpty())
            .map(p -> p.port() + "/" + p.protocol() + " (" + p.error() + ")")
            .distinct()
            .collect(Collectors.joining(", "));
    if (!failed.isEmpty()) {
      return Ready.no(
          Ready.PORT_ERROR,
          "Load balancer at "
              + describe(found)
              + " does not serve port "
              + failed
              + "; the other ports are served (status.loadBalancer.ingress[].ports[].error; the"
              + " provider's Warning event says why)");
    }
    String health =
        found
            .backendHealth()
            .map(h -> "; " + h.healthy() + "/" + h.total() + " backends healthy")
            .orElse("");
    return new Ready(true, Ready.PROVISIONED, "Load balancer ready at " + describe(found) + health);
  }

  /** The load balancer's addresses, comma-separated, for events and logs. */
  static String describe(LoadBalancerStatus status) {
    return status.ingress().stream()
        .map(i -> i.ip().or(i::hostname).orElse("?"))
        .collect(Collectors.joining(", "));
  }

  static List<LoadBalancerIngress> toIngress(LoadBalancerStatus status) {
    List<LoadBalancerIngress> out = new ArrayList<>();
    for (LoadBalancerStatus.Ingress in : status.ingress()) {
      LoadBalancerIngressBuilder b = new LoadBalancerIngressBuilder();
      in.ip().map(IpLiterals::canonical).ifPresent(b::withIp);
      in.hostname().ifPresent(b::withHostname);
      if (in.ip().isPresent()) { // the API server refuses ipMode without an IP
        b.withIpMode(in.ipMode().orElse(LoadBalancerStatus.IpMode.VIP).name());
      }
      in.ports()
          .forEach(
              p ->
                  b.addToPorts(
                      new PortStatusBuilder()
                          .withPort(p.port())
                          .withProtocol(p.protocol().name())
                          .withError(p.error().isEmpty() ? null : p.error())
                          .build()));
      out.add(b.build());
    }
    return out;
  }
}
