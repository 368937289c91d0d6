package dev.ferry.spi;

/** Transport protocol of a listener, as in a Service port. */
public enum Protocol {
  TCP,
  UDP,
  SCTP
}
