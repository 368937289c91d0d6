package dev.ferry.spi;

/** Whether a load balancer faces the internet or only the private network. */
public enum Scheme {
  EXTERNAL,
  INTERNAL
}
