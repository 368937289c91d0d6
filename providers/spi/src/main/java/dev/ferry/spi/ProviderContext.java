package dev.ferry.spi;

import java.util.Map;
import java.util.Objects;

/**
 * What a provider is given at creation, so that it reads nothing from globals. Made with {@link
 * #builder}; a later 1.x contract may add to it without breaking a compiled provider.
 */
public final class ProviderContext {

  private final String clusterName;
  private final Map<String, String> settings;
  private final ProviderEvents events;
  private final ProviderMetrics metrics;

  private ProviderContext(Builder b) {
    clusterName = Names.requireNonBlank(b.clusterName, "clusterName");
    settings = Map.copyOf(Objects.requireNonNull(b.settings, "settings"));
    events = Objects.requireNonNull(b.events, "events");
    metrics = Objects.requireNonNull(b.metrics, "metrics");
  }

  /** A context for {@code clusterName} with no settings, whose warnings and figures go nowhere. */
  public static Builder builder(String clusterName) {
    Builder b = new Builder();
    b.clusterName = clusterName;
    return b;
  }

  /** The cluster this controller serves; part of every ownership tag. */
  public String clusterName() {
    return clusterName;
  }

  /** Provider settings from {@code --provider-setting key=value}, unmodifiable. */
  public Map<String, String> settings() {
    return settings;
  }

  /** Where to report warnings about a Service's load balancer. */
  public ProviderEvents events() {
    return events;
  }

  /** Where to record the provider's own figures. */
  public ProviderMetrics metrics() {
    return metrics;
  }

  /** The setting's value, or {@code fallback} when it is not given. */
  public String setting(String key, String fallback) {
    return settings.getOrDefault(key, fallback);
  }

  /** Sets a context's parts. */
  public static final class Builder {
    private String clusterName;
    private Map<String, String> settings = Map.of();
    private ProviderEvents events = ProviderEvents.NONE;
    private ProviderMetrics metrics = ProviderMetrics.NONE;

    private Builder() {}

    public Builder settings(Map<String, String> value) {
      settings = value;
      return this;
    }

    public Builder events(ProviderEvents value) {
      events = value;
      return this;
    }

    public Builder metrics(ProviderMetrics value) {
      metrics = value;
      return this;
    }

    public ProviderContext build() {
      return new ProviderContext(this);
    }
  }
}
