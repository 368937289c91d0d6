package dev.ferry.spi;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What the controller publishes in {@code status.loadBalancer}, and how healthy the backends are
 * where the provider knows it (the Service's condition says so).
 *
 * @param ingress the addresses clients use; empty while the cloud has not assigned one ("no address
 *     yet": the controller asks again with {@code find}, with backoff)
 * @param backendHealth how many backends pass their health checks, when the provider knows
 */
public record LoadBalancerStatus(List<Ingress> ingress, Optional<BackendHealth> backendHealth) {

  public LoadBalancerStatus {
    ingress = List.copyOf(ingress);
    Objects.requireNonNull(backendHealth, "backendHealth");
  }

  /** A status with no backend health figure. */
  public LoadBalancerStatus(List<Ingress> ingress) {
    this(ingress, Optional.empty());
  }

  /** The same status with a backend health figure. */
  public LoadBalancerStatus withBackendHealth(int healthy, int total) {
    return new LoadBalancerStatus(ingress, Optional.of(new BackendHealth(healthy, total)));
  }

  /**
   * @param healthy backends that pass their health checks
   * @param total backends registered
   */
  public record BackendHealth(int healthy, int total) {
    public BackendHealth {
      if (healthy < 0 || total < healthy) {
        throw new IllegalArgumentException("0 <= healthy <= total, not " + healthy + "/" + total);
      }
    }
  }

  public static LoadBalancerStatus ofIp(String ip, IpMode mode) {
    return new LoadBalancerStatus(
        List.of(new Ingress(Optional.of(ip), Optional.empty(), Optional.of(mode), List.of())));
  }

  public static LoadBalancerStatus ofHostname(String hostname) {
    return new LoadBalancerStatus(
        List.of(new Ingress(Optional.empty(), Optional.of(hostname), Optional.empty(), List.of())));
  }

  /**
   * How traffic reaches the nodes: {@code VIP} keeps the destination, {@code Proxy} rewrites it.
   */
  public enum IpMode {
    VIP,
    Proxy
  }

  /**
   * One address, with an error per port where a listener could not be made.
   *
   * @param ip the IP address, when the load balancer has one
   * @param hostname the DNS name, when the load balancer has one
   * @param ipMode how traffic to {@code ip} reaches the nodes; only with an IP: the API server
   *     refuses {@code ipMode} on a hostname-only ingress (422), and an IP without it means {@code
   *     VIP}
   */
  public record Ingress(
      Optional<String> ip,
      Optional<String> hostname,
      Optional<IpMode> ipMode,
      List<PortStatus> ports) {
    public Ingress {
      Objects.requireNonNull(ip, "ip");
      Objects.requireNonNull(hostname, "hostname");
      Objects.requireNonNull(ipMode, "ipMode");
      ports = List.copyOf(ports);
      if (ip.isEmpty() == hostname.isEmpty()) {
        throw new IllegalArgumentException(
            "an ingress has an IP or a hostname, not both or neither");
      }
      if (ip.isEmpty() && ipMode.isPresent()) {
        throw new IllegalArgumentException(
            "ipMode goes only with an IP; a hostname ingress carries none");
      }
    }
  }

  /**
   * A port's state. {@code error} is CamelCase (or {@code domain/CamelCase}), at most 316
   * characters, and empty when the port works.
   */
  public record PortStatus(int port, Protocol protocol, String error) {
    public PortStatus {
      Objects.requireNonNull(protocol, "protocol");
      error = error == null ? "" : error;
      if (error.length() > 316) {
        throw new IllegalArgumentException("a port error is at most 316 characters");
      }
    }
  }
}
