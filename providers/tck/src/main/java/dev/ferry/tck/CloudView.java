package dev.ferry.tck;

import dev.ferry.spi.HealthCheck;
import dev.ferry.spi.IpFamily;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.Scheme;
import java.time.Duration;
import java.util.Set;

/**
 * The cloud as the conformance kit sees it, independent of the provider under test: each provider's
 * test implements it with the cloud's own API (or the emulator's), never through the provider.
 */
public interface CloudView {

  /** How many load balancers exist for {@code ref} (0 or 1 for a correct provider). */
  int loadBalancerCount(LoadBalancerRef ref);

  /** The node names (or provider IDs, as the provider registers them) behind {@code ref}. */
  Set<String> registeredBackends(LoadBalancerRef ref);

  /** The front-end listeners of {@code ref}'s load balancer, each as {@code PROTOCOL/port}. */
  Set<String> listeners(LoadBalancerRef ref);

  /** How the cloud probes {@code ref}'s backends. */
  Probe healthProbe(LoadBalancerRef ref);

  /** The client CIDRs the cloud lets in to {@code ref}'s load balancer. */
  Set<String> sourceRanges(LoadBalancerRef ref);

  /** Whether {@code ref}'s load balancer is external or internal. */
  Scheme scheme(LoadBalancerRef ref);

  /**
   * Every cloud resource that carries {@code ref}'s ownership (load balancer, target groups, rules,
   * addresses, configuration files...): 0 once {@code ensureDeleted} has succeeded.
   */
  int ownedResources(LoadBalancerRef ref);

  /**
   * The node names behind {@code ref}'s frontend of {@code family} (a dual-stack load balancer has
   * one per family). Since 1.3; a view that cannot tell families apart leaves it, and the kit's
   * dual-stack cases that need it are skipped with the reason.
   */
  default Set<String> registeredBackends(LoadBalancerRef ref, IpFamily family) {
    throw new UnsupportedOperationException("this CloudView does not show backends per family");
  }

  /** The client CIDRs let in to {@code ref}'s frontend of {@code family}. Since 1.3; as above. */
  default Set<String> sourceRanges(LoadBalancerRef ref, IpFamily family) {
    throw new UnsupportedOperationException("this CloudView does not show ranges per family");
  }

  /**
   * Makes a load balancer outside Ferry, as another controller or a person would: one TCP listener
   * on {@code port} to {@code nodePort} on {@code backends}. Answers the id {@code ferry.dev/adopt}
   * names it by. Since 1.4; a view that cannot leaves it, and the kit's adoption cases are skipped
   * with the reason.
   */
  default String handMade(
      String name, int port, int nodePort, java.util.List<dev.ferry.spi.Backend> backends) {
    throw new UnsupportedOperationException("this CloudView makes no load balancers of its own");
  }

  /**
   * A health probe as the cloud has it.
   *
   * @param port the probed port, or {@link HealthCheck#TRAFFIC_PORT} for each listener's NodePort
   * @param path the HTTP path, empty for TCP
   */
  record Probe(HealthCheck.Type type, int port, String path, Duration interval) {}
}
