package dev.ferry.spi;

/**
 * A Service's {@code spec.ipFamilyPolicy}, as the API server sets it: one family, both when the
 * cluster has them, or both or nothing. Since 1.3.
 */
public enum IpFamilyPolicy {
  /** One family: the first of {@code spec.ipFamilies}. */
  SingleStack,
  /** Both families where the cluster has both; a load balancer in one of them is still served. */
  PreferDualStack,
  /** Both families, or no load balancer at all. */
  RequireDualStack
}
