package dev.ferry.spi;

import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * What a provider can build. The controller checks every plan with {@link #violations} before
 * calling the provider; providers call {@link #requireSupported} at the top of {@code ensure} so a
 * plan outside their reach fails before any change.
 *
 * <p>Made with {@link #builder()}: a provider declares what it supports and everything it does not
 * declare keeps its default, so a capability added to a later 1.x contract does not break a
 * compiled provider. The defaults are what a provider that says nothing can be trusted with: TCP
 * only, one protocol per load balancer, no limit on listeners, no source ranges, no requested
 * address, no internal scheme, no ClientIP affinity, any health-check interval (1 ms to 1 hour),
 * IPv4 only (no dual-stack), an IP address, no retained addresses, no shared addresses, and no
 * adoption.
 */
public final class Capabilities {

  private final Set<Protocol> protocols;
  private final boolean mixedProtocols;
  private final int maxListeners;
  private final boolean sourceRanges;
  private final boolean requestedIp;
  private final boolean internal;
  private final boolean clientIpAffinity;
  private final Duration minHealthCheckInterval;
  private final Duration maxHealthCheckInterval;
  private final Set<IpFamily> ipFamilies;
  private final boolean dualStack;
  private final boolean backendsByFamily;
  private final AddressKind addressKind;
  private final boolean retain;
  private final boolean sharedAddresses;
  private final boolean adopt;
  private final HealthCheckDefaults healthCheckDefaults;
  private final HealthCheckDefaults localHealthCheckDefaults;

  private Capabilities(Builder b) {
    protocols = Set.copyOf(b.protocols);
    mixedProtocols = b.mixedProtocols;
    maxListeners = b.maxListeners;
    sourceRanges = b.sourceRanges;
    requestedIp = b.requestedIp;
    internal = b.internal;
    clientIpAffinity = b.clientIpAffinity;
    minHealthCheckInterval = b.minHealthCheckInterval;
    maxHealthCheckInterval = b.maxHealthCheckInterval;
    ipFamilies = Set.copyOf(b.ipFamilies);
    dualStack = b.dualStack;
    backendsByFamily = b.backendsByFamily;
    addressKind = b.addressKind;
    retain = b.retain;
    sharedAddresses = b.sharedAddresses;
    adopt = b.adopt;
    healthCheckDefaults = b.healthCheckDefaults;
    localHealthCheckDefaults = b.localHealthCheckDefaults;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Listener protocols supported. */
  public Set<Protocol> protocols() {
    return protocols;
  }

  /** Whether one load balancer may carry listeners of different protocols (TCP and UDP). */
  public boolean mixedProtocols() {
    return mixedProtocols;
  }

  /** Most listeners on one load balancer. */
  public int maxListeners() {
    return maxListeners;
  }

  /** Whether client CIDRs can be restricted ({@code spec.loadBalancerSourceRanges}). */
  public boolean sourceRanges() {
    return sourceRanges;
  }

  /** Whether {@code spec.loadBalancerIP} can be honoured. */
  public boolean requestedIp() {
    return requestedIp;
  }

  /** Whether internal (private) load balancers can be made. */
  public boolean internal() {
    return internal;
  }

  /** Whether {@code sessionAffinity: ClientIP} can be honoured. */
  public boolean clientIpAffinity() {
    return clientIpAffinity;
  }

  /** The shortest health-check interval the cloud takes. */
  public Duration minHealthCheckInterval() {
    return minHealthCheckInterval;
  }

  /** The longest health-check interval the cloud takes. */
  public Duration maxHealthCheckInterval() {
    return maxHealthCheckInterval;
  }

  /** The IP families a load balancer can serve. */
  public Set<IpFamily> ipFamilies() {
    return ipFamilies;
  }

  /**
   * Whether one load balancer can serve both families at once (a dual-stack Service); needs both in
   * {@link #ipFamilies()}. Since 1.3.
   */
  public boolean dualStack() {
    return dualStack;
  }

  /**
   * Whether each family's frontend reaches the nodes by their address of that family (true, the
   * default: a node without an IPv6 address is no IPv6 backend), or every family through the nodes'
   * primary address (an NLB's IPv4 instance targets serve its IPv6 clients too). Since 1.3.
   */
  public boolean backendsByFamily() {
    return backendsByFamily;
  }

  /** Whether the provider publishes IPs or hostnames. */
  public AddressKind addressKind() {
    return addressKind;
  }

  /**
   * Whether a Service's address can outlive it ({@link ReclaimPolicy#Retain}): {@link
   * LoadBalancerProvider#ensureRetained}, {@code listRetained} and {@code deleteRetained} work, and
   * {@code ensure} serves on a retained address of the cluster that a plan requests ({@code
   * spec.loadBalancerIP}). Since 1.4.
   */
  public boolean retain() {
    return retain;
  }

  /**
   * Whether several Services can share one address, each on its own ports ({@link
   * LoadBalancerPlan#sharingKey()}). Since 1.4.
   */
  public boolean sharedAddresses() {
    return sharedAddresses;
  }

  /**
   * Whether an existing load balancer can be handed to a Service ({@link
   * LoadBalancerProvider#previewAdoption}, {@link LoadBalancerPlan#adopt()}). Since 1.4.
   */
  public boolean adopt() {
    return adopt;
  }

  /**
   * The health-check timings this cloud's users expect when a Service does not set them (e.g. GCE's
   * 8 s / 1 s / 1 / 3); empty for Ferry's own defaults. Since 1.1.
   */
  public Optional<HealthCheckDefaults> healthCheckDefaults() {
    return Optional.ofNullable(healthCheckDefaults);
  }

  /**
   * The timings for an {@code externalTrafficPolicy: Local} Service that sets none, when the cloud
   * checks those differently (GKE: 3 s / 1 s / 1 / 2 against 8 s / 1 s / 1 / 3); otherwise {@link
   * #healthCheckDefaults()}. Since 1.2.
   */
  public Optional<HealthCheckDefaults> localHealthCheckDefaults() {
    return localHealthCheckDefaults == null
        ? healthCheckDefaults()
        : Optional.of(localHealthCheckDefaults);
  }

  /** Everything a plan asks for that this provider cannot do; empty when the plan is supported. */
  public List<PlanViolation> violations(LoadBalancerPlan plan) {
    return PlanChecks.violations(this, plan);
  }

  /** Throws {@link ProviderException.InvalidPlan} naming every unsupported field. */
  public void requireSupported(LoadBalancerPlan plan) throws ProviderException.InvalidPlan {
    List<PlanViolation> found = violations(plan);
    if (!found.isEmpty()) {
      throw new ProviderException.InvalidPlan(found);
    }
  }

  static String names(Set<? extends Enum<?>> set) {
    return set.stream().sorted().map(Enum::name).collect(Collectors.joining(", "));
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Capabilities c && toString().equals(c.toString());
  }

  @Override
  public int hashCode() {
    return toString().hashCode();
  }

  @Override
  public String toString() {
    return "Capabilities[protocols="
        + names(protocols)
        + ", mixedProtocols="
        + mixedProtocols
        + ", maxListeners="
        + maxListeners
        + ", sourceRanges="
        + sourceRanges
        + ", requestedIp="
        + requestedIp
        + ", internal="
        + internal
        + ", clientIpAffinity="
        + clientIpAffinity
        + ", healthCheckInterval="
        + minHealthCheckInterval
        + ".."
        + maxHealthCheckInterval
        + ", ipFamilies="
        + names(ipFamilies)
        + ", dualStack="
        + dualStack
        + ", backendsByFamily="
        + backendsByFamily
        + ", addressKind="
        + addressKind
        + ", retain="
        + retain
        + ", sharedAddresses="
        + sharedAddresses
        + ", adopt="
        + adopt
        + ", healthCheckDefaults="
        + healthCheckDefaults
        + ", localHealthCheckDefaults="
        + localHealthCheckDefaults
        + "]";
  }

  /** Declares what a provider supports; see the class documentation for the defaults. */
  public static final class Builder {
    private Set<Protocol> protocols = Set.of(Protocol.TCP);
    private boolean mixedProtocols;
    private int maxListeners = Integer.MAX_VALUE;
    private boolean sourceRanges;
    private boolean requestedIp;
    private boolean internal;
    private boolean clientIpAffinity;
    private Duration minHealthCheckInterval = Duration.ofMillis(1);
    private Duration maxHealthCheckInterval = Duration.ofHours(1);
    private Set<IpFamily> ipFamilies = Set.of(IpFamily.IPv4);
    private boolean dualStack;
    private boolean backendsByFamily = true;
    private AddressKind addressKind = AddressKind.IP;
    private boolean retain;
    private boolean sharedAddresses;
    private boolean adopt;
    private HealthCheckDefaults healthCheckDefaults;
    private HealthCheckDefaults localHealthCheckDefaults;

    private Builder() {}

    public Builder protocols(Protocol first, Protocol... more) {
      protocols = EnumSet.of(first, more);
      return this;
    }

    public Builder mixedProtocols(boolean value) {
      mixedProtocols = value;
      return this;
    }

    public Builder maxListeners(int value) {
      if (value < 1) {
        throw new IllegalArgumentException("a provider supports at least one listener");
      }
      maxListeners = value;
      return this;
    }

    public Builder sourceRanges(boolean value) {
      sourceRanges = value;
      return this;
    }

    public Builder requestedIp(boolean value) {
      requestedIp = value;
      return this;
    }

    public Builder internal(boolean value) {
      internal = value;
      return this;
    }

    public Builder clientIpAffinity(boolean value) {
      clientIpAffinity = value;
      return this;
    }

    /** The health-check intervals the cloud takes, both ends included. */
    public Builder healthCheckInterval(Duration min, Duration max) {
      Objects.requireNonNull(min, "min");
      Objects.requireNonNull(max, "max");
      if (min.isNegative() || min.isZero() || max.compareTo(min) < 0) {
        throw new IllegalArgumentException("a health-check interval range needs 0 < min <= max");
      }
      minHealthCheckInterval = min;
      maxHealthCheckInterval = max;
      return this;
    }

    public Builder ipFamilies(IpFamily first, IpFamily... more) {
      ipFamilies = EnumSet.of(first, more);
      return this;
    }

    /** Both families on one load balancer; see {@link Capabilities#dualStack()}. Since 1.3. */
    public Builder dualStack(boolean value) {
      dualStack = value;
      return this;
    }

    /** See {@link Capabilities#backendsByFamily()}. Since 1.3. */
    public Builder backendsByFamily(boolean value) {
      backendsByFamily = value;
      return this;
    }

    public Builder addressKind(AddressKind value) {
      addressKind = Objects.requireNonNull(value, "addressKind");
      return this;
    }

    /** Addresses that outlive their Service; see {@link Capabilities#retain()}. Since 1.4. */
    public Builder retain(boolean value) {
      retain = value;
      return this;
    }

    /** One address for several Services; see {@link Capabilities#sharedAddresses()}. Since 1.4. */
    public Builder sharedAddresses(boolean value) {
      sharedAddresses = value;
      return this;
    }

    /** Existing load balancers handed to Services; see {@link Capabilities#adopt()}. Since 1.4. */
    public Builder adopt(boolean value) {
      adopt = value;
      return this;
    }

    /** The timings a Service gets when it sets none; see {@link #healthCheckDefaults()}. */
    public Builder healthCheckDefaults(HealthCheckDefaults value) {
      healthCheckDefaults = Objects.requireNonNull(value, "healthCheckDefaults");
      return this;
    }

    /**
     * The timings a Local-policy Service gets when it sets none; see {@link
     * #localHealthCheckDefaults()}.
     */
    public Builder localHealthCheckDefaults(HealthCheckDefaults value) {
      localHealthCheckDefaults = Objects.requireNonNull(value, "localHealthCheckDefaults");
      return this;
    }

    public Capabilities build() {
      if (dualStack && ipFamilies.size() < 2) {
        throw new IllegalArgumentException("dualStack needs both IPv4 and IPv6 in ipFamilies");
      }
      return new Capabilities(this);
    }
  }
}
