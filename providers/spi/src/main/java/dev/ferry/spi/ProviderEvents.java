package dev.ferry.spi;

/**
 * How a provider tells a Service's owner about something they should know that does not fail the
 * call, e.g. a node that could not be registered. The controller records it as an event on the
 * Service; repeats are counted, not duplicated.
 */
@FunctionalInterface
public interface ProviderEvents {

  /** Drops everything; for tools and tests that have no Services to report to. */
  ProviderEvents NONE = (ref, reason, message) -> {};

  /**
   * @param reason a CamelCase reason such as {@code NodeNotRegistered}
   * @param message what happened and what to do about it
   */
  void warning(LoadBalancerRef ref, String reason, String message);

  /**
   * A Normal event: something the owner should know that is not a problem, e.g. a PreferDualStack
   * Service served in one family because the cloud configuration has no IPv6. Since 1.3; dropped by
   * default.
   */
  default void normal(LoadBalancerRef ref, String reason, String message) {}
}
