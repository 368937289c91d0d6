package dev.ferry.spi;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The desired load balancer for one Service, computed by the controller from the Service and the
 * eligible nodes. Immutable; a provider reads it and never changes it.
 *
 * <p>Made with {@link #builder} (or {@link #toBuilder} to change a copy): a field added in a later
 * 1.x contract gets a default, so code that makes plans (a provider's tests, the conformance kit)
 * keeps compiling and a compiled provider keeps running. Equal plans are equal field by field.
 */
public final class LoadBalancerPlan {

  private final LoadBalancerRef ref;
  private final Scheme scheme;
  private final List<Listener> listeners;
  private final List<Backend> backends;
  private final HealthCheck healthCheck;
  private final List<String> sourceRanges;
  private final Optional<String> requestedIp;
  private final SessionAffinity affinity;
  private final Map<String, String> annotations;
  private final Map<String, String> tags;
  private final List<String> currentAddresses;
  private final List<IpFamily> ipFamilies;
  private final IpFamilyPolicy ipFamilyPolicy;
  private final ReclaimPolicy reclaimPolicy;
  private final Optional<String> claimRetained;
  private final Optional<String> sharingKey;
  private final Optional<String> adopt;

  private LoadBalancerPlan(Builder b) {
    ref = Objects.requireNonNull(b.ref, "ref");
    scheme = Objects.requireNonNull(b.scheme, "scheme");
    healthCheck = Objects.requireNonNull(b.healthCheck, "healthCheck");
    requestedIp = Objects.requireNonNull(b.requestedIp, "requestedIp");
    affinity = Objects.requireNonNull(b.affinity, "affinity");
    listeners = List.copyOf(b.listeners);
    backends = List.copyOf(b.backends);
    annotations = Map.copyOf(b.annotations);
    tags = Map.copyOf(b.tags);
    currentAddresses = List.copyOf(b.currentAddresses);
    ipFamilies = List.copyOf(b.ipFamilies);
    ipFamilyPolicy = Objects.requireNonNull(b.ipFamilyPolicy, "ipFamilyPolicy");
    reclaimPolicy = Objects.requireNonNull(b.reclaimPolicy, "reclaimPolicy");
    claimRetained = Objects.requireNonNull(b.claimRetained, "claimRetained");
    sharingKey = Objects.requireNonNull(b.sharingKey, "sharingKey");
    adopt = Objects.requireNonNull(b.adopt, "adopt");
    sourceRanges =
        b.sourceRanges != null
            ? List.copyOf(b.sourceRanges)
            : ipFamilies.stream().map(IpFamily::everyAddress).toList();
    if (listeners.isEmpty()) {
      throw new IllegalArgumentException("a load balancer needs at least one listener");
    }
    if (ipFamilies.isEmpty()) {
      throw new IllegalArgumentException("a load balancer needs at least one IP family");
    }
  }

  /**
   * A plan for {@code ref} with these listeners and health check. The rest defaults to: external,
   * no backends, IPv4 single-stack, every client of its families allowed ({@code 0.0.0.0/0}, and
   * {@code ::/0} with IPv6), no requested IP, no affinity, no annotations or tags, no current
   * address.
   */
  public static Builder builder(LoadBalancerRef ref, List<Listener> listeners, HealthCheck check) {
    Builder b = new Builder();
    b.ref = ref;
    b.listeners = listeners;
    b.healthCheck = check;
    return b;
  }

  /** A builder holding this plan's fields. */
  public Builder toBuilder() {
    Builder b = builder(ref, listeners, healthCheck);
    b.scheme = scheme;
    b.backends = backends;
    b.sourceRanges = sourceRanges;
    b.requestedIp = requestedIp;
    b.affinity = affinity;
    b.annotations = annotations;
    b.tags = tags;
    b.currentAddresses = currentAddresses;
    b.ipFamilies = ipFamilies;
    b.ipFamilyPolicy = ipFamilyPolicy;
    b.reclaimPolicy = reclaimPolicy;
    b.claimRetained = claimRetained;
    b.sharingKey = sharingKey;
    b.adopt = adopt;
    return b;
  }

  /** Which Service this is for. */
  public LoadBalancerRef ref() {
    return ref;
  }

  /** External or internal. */
  public Scheme scheme() {
    return scheme;
  }

  /** One per Service port, in the Service's order. */
  public List<Listener> listeners() {
    return listeners;
  }

  /** The eligible nodes, sorted by name. */
  public List<Backend> backends() {
    return backends;
  }

  /** How backends are probed. */
  public HealthCheck healthCheck() {
    return healthCheck;
  }

  /**
   * Client CIDRs allowed in, of every family; when the Service names none, every address of each of
   * its families ({@code 0.0.0.0/0}, {@code ::/0}).
   */
  public List<String> sourceRanges() {
    return sourceRanges;
  }

  /**
   * The client CIDRs of {@code family}: empty when the Service names ranges but none of this
   * family, and then that family's frontend admits no one. Since 1.3.
   */
  public List<String> sourceRanges(IpFamily family) {
    return sourceRanges.stream().filter(r -> IpFamily.of(r) == family).toList();
  }

  /** {@code spec.loadBalancerIP}, when given. */
  public Optional<String> requestedIp() {
    return requestedIp;
  }

  /** Session affinity. */
  public SessionAffinity affinity() {
    return affinity;
  }

  /** The Service's annotations, for provider-specific options. */
  public Map<String, String> annotations() {
    return annotations;
  }

  /** Ownership and user tags every cloud resource of this load balancer carries. */
  public Map<String, String> tags() {
    return tags;
  }

  /**
   * The addresses (IPs or hostnames) the Service's status shows now. A provider that picks
   * addresses itself gives a load balancer it makes again (after a restart, or one deleted out of
   * band) the address it had, when it is free: clients keep reaching it.
   */
  public List<String> currentAddresses() {
    return currentAddresses;
  }

  /**
   * The families to serve, in the Service's {@code spec.ipFamilies} order (the first is the
   * primary): both for a dual-stack Service, unless the controller left one out of a {@code
   * PreferDualStack} Service for a provider that cannot serve it.
   */
  public List<IpFamily> ipFamilies() {
    return ipFamilies;
  }

  /** The Service's {@code spec.ipFamilyPolicy}; SingleStack when absent. Since 1.3. */
  public IpFamilyPolicy ipFamilyPolicy() {
    return ipFamilyPolicy;
  }

  /**
   * What becomes of the address when the Service goes ({@code ferry.dev/reclaim-policy}); Delete
   * when absent. The controller calls {@link LoadBalancerProvider#ensureRetained} instead of {@code
   * ensureDeleted} for Retain. Since 1.4.
   */
  public ReclaimPolicy reclaimPolicy() {
    return reclaimPolicy;
  }

  /**
   * The retained address this Service takes ({@code ferry.dev/claim-retained}), by the id {@link
   * LoadBalancerProvider#listRetained} gave it; the controller also puts its IP in {@link
   * #requestedIp()} for a provider of IP addresses, so a provider that serves a requested retained
   * IP needs nothing more. A provider of hostnames serves the Service on it. Since 1.4.
   */
  public Optional<String> claimRetained() {
    return claimRetained;
  }

  /**
   * The Service's {@code ferry.dev/allow-shared-ip} key: the cluster's Services with the same key
   * share one address, each on its own ports (the controller has checked that no port of this plan
   * is another's, and that they ask for the same {@link #requestedIp()}). The address is the key's,
   * not one Service's: made with the first, kept while any Service uses it. Since 1.4.
   */
  public Optional<String> sharingKey() {
    return sharingKey;
  }

  /**
   * The existing load balancer this Service takes over ({@code ferry.dev/adopt}), by the provider's
   * id for it, once the user confirmed {@link LoadBalancerProvider#previewAdoption}'s changes. When
   * the Service has no load balancer of its own, {@code ensure} marks this one as the Service's
   * (and as adopted), then brings it in line with the plan; its address stays. Since 1.4.
   */
  public Optional<String> adopt() {
    return adopt;
  }

  /** The same plan with another backend set. */
  public LoadBalancerPlan withBackends(List<Backend> newBackends) {
    return toBuilder().backends(newBackends).build();
  }

  /** The same plan with other current addresses. */
  public LoadBalancerPlan withCurrentAddresses(List<String> addresses) {
    return toBuilder().currentAddresses(addresses).build();
  }

  private Object[] fields() {
    return new Object[] {
      ref,
      scheme,
      listeners,
      backends,
      healthCheck,
      sourceRanges,
      requestedIp,
      affinity,
      annotations,
      tags,
      currentAddresses,
      ipFamilies,
      ipFamilyPolicy,
      reclaimPolicy,
      claimRetained,
      sharingKey,
      adopt
    };
  }

  /**
   * Field by field, the cheap ones first and the backends last (a node change makes plans that
   * differ only there; plans made from the same node list share it, so that is one comparison).
   */
  @Override
  public boolean equals(Object o) {
    if (o == this) {
      return true;
    }
    return o instanceof LoadBalancerPlan p
        && scheme == p.scheme
        && ref.equals(p.ref)
        && healthCheck.equals(p.healthCheck)
        && affinity.equals(p.affinity)
        && requestedIp.equals(p.requestedIp)
        && listeners.equals(p.listeners)
        && sourceRanges.equals(p.sourceRanges)
        && annotations.equals(p.annotations)
        && tags.equals(p.tags)
        && currentAddresses.equals(p.currentAddresses)
        && ipFamilies.equals(p.ipFamilies)
        && ipFamilyPolicy == p.ipFamilyPolicy
        && reclaimPolicy == p.reclaimPolicy
        && claimRetained.equals(p.claimRetained)
        && sharingKey.equals(p.sharingKey)
        && adopt.equals(p.adopt)
        && (backends == p.backends
            || backends.size() == p.backends.size() && backends.equals(p.backends));
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(fields());
  }

  @Override
  public String toString() {
    String[] names = {
      "ref",
      "scheme",
      "listeners",
      "backends",
      "healthCheck",
      "sourceRanges",
      "requestedIp",
      "affinity",
      "annotations",
      "tags",
      "currentAddresses",
      "ipFamilies",
      "ipFamilyPolicy",
      "reclaimPolicy",
      "claimRetained",
      "sharingKey",
      "adopt"
    };
    Object[] values = fields();
    StringBuilder out = new StringBuilder("LoadBalancerPlan[");
    for (int i = 0; i < names.length; i++) {
      out.append(i == 0 ? "" : ", ").append(names[i]).append('=').append(values[i]);
    }
    return out.append(']').toString();
  }

  /** Sets a plan's fields; every setter replaces what was there. */
  public static final class Builder {
    private LoadBalancerRef ref;
    private Scheme scheme = Scheme.EXTERNAL;
    private List<Listener> listeners;
    private List<Backend> backends = List.of();
    private HealthCheck healthCheck;
    private List<String> sourceRanges; // null: every address of the plan's families
    private Optional<String> requestedIp = Optional.empty();
    private SessionAffinity affinity = SessionAffinity.NONE;
    private Map<String, String> annotations = Map.of();
    private Map<String, String> tags = Map.of();
    private List<String> currentAddresses = List.of();
    private List<IpFamily> ipFamilies = List.of(IpFamily.IPv4);
    private IpFamilyPolicy ipFamilyPolicy = IpFamilyPolicy.SingleStack;
    private ReclaimPolicy reclaimPolicy = ReclaimPolicy.Delete;
    private Optional<String> claimRetained = Optional.empty();
    private Optional<String> sharingKey = Optional.empty();
    private Optional<String> adopt = Optional.empty();

    private Builder() {}

    public Builder ref(LoadBalancerRef value) {
      ref = value;
      return this;
    }

    public Builder scheme(Scheme value) {
      scheme = value;
      return this;
    }

    public Builder listeners(List<Listener> value) {
      listeners = value;
      return this;
    }

    public Builder backends(List<Backend> value) {
      backends = value;
      return this;
    }

    public Builder healthCheck(HealthCheck value) {
      healthCheck = value;
      return this;
    }

    public Builder sourceRanges(List<String> value) {
      sourceRanges = value;
      return this;
    }

    public Builder requestedIp(Optional<String> value) {
      requestedIp = value;
      return this;
    }

    public Builder affinity(SessionAffinity value) {
      affinity = value;
      return this;
    }

    public Builder annotations(Map<String, String> value) {
      annotations = value;
      return this;
    }

    public Builder tags(Map<String, String> value) {
      tags = value;
      return this;
    }

    public Builder currentAddresses(List<String> value) {
      currentAddresses = value;
      return this;
    }

    public Builder ipFamilies(List<IpFamily> value) {
      ipFamilies = value;
      return this;
    }

    /** Since 1.3. */
    public Builder ipFamilyPolicy(IpFamilyPolicy value) {
      ipFamilyPolicy = value;
      return this;
    }

    /** Since 1.4. */
    public Builder reclaimPolicy(ReclaimPolicy value) {
      reclaimPolicy = value;
      return this;
    }

    /** Since 1.4. */
    public Builder claimRetained(Optional<String> value) {
      claimRetained = value;
      return this;
    }

    /** Since 1.4. */
    public Builder sharingKey(Optional<String> value) {
      sharingKey = value;
      return this;
    }

    /** Since 1.4. */
    public Builder adopt(Optional<String> value) {
      adopt = value;
      return this;
    }

    public LoadBalancerPlan build() {
      return new LoadBalancerPlan(this);
    }
  }
}
