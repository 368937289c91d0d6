package dev.ferry.spi;

/**
 * What becomes of a Service's address when the Service is deleted or stops being a load balancer
 * ({@code ferry.dev/reclaim-policy}). Since 1.4.
 */
public enum ReclaimPolicy {
  /** Everything Ferry made for the Service goes, its address too (the default). */
  Delete,
  /**
   * The listeners, backends and checks go; the address stays, marked as retained by the cluster for
   * the Service's namespace and name, until an operator deletes it by name ({@code ferry gc
   * --delete-retained}).
   */
  Retain
}
