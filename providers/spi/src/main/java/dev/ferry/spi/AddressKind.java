package dev.ferry.spi;

/** What a provider publishes as a load balancer's address. */
public enum AddressKind {
  /** An IP address (with an {@code ipMode}). */
  IP,
  /** A DNS name (with no {@code ipMode}: the API server refuses one on a hostname). */
  HOSTNAME
}
